"""Parameters: positional sequences pass through; a mapping binds named placeholders
(``:name``, ``@name``, ``$name``), rewritten once per SQL text into positional ``?``."""
from collections.abc import Mapping

from ._errors import ProgrammingError

_cache: dict = {}
_CACHE_MAX = 512
_NAME0 = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME = _NAME0 | set("0123456789")


def _skip_quoted(sql, i, close):
    j = sql.find(close, i + 1)
    while j != -1 and close in "'\"" and sql[j + 1:j + 2] == close:  # doubled quote
        j = sql.find(close, j + 2)
    return len(sql) if j == -1 else j + 1


_DIGITS = set("0123456789")


def rewrite(sql):
    """(sql with named placeholders (and ``?NNN``, named "NNN" as in sqlite3) turned into ?,
    [names in order], the number of the first bare ``?`` as SQLite counts parameters, or 0)."""
    out, names, i, start, n = [], [], 0, 0, len(sql)
    nameless, seen = 0, set()
    while i < n:
        c = sql[i]
        if c in "'\"`":
            i = _skip_quoted(sql, i, c)
        elif c == "[":
            i = _skip_quoted(sql, i, "]")
        elif c == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j == -1 else j + 1
        elif c == "/" and sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j == -1 else j + 2
        elif c == ":" and sql.startswith("::", i):
            i += 2  # a DuckDB cast, not a parameter
        elif c in ":@$" and i + 1 < n and sql[i + 1] in _NAME0:
            j = i + 1
            while j < n and sql[j] in _NAME:
                j += 1
            out.append(sql[start:i])
            out.append("?")
            names.append(sql[i + 1:j])
            seen.add(sql[i:j])
            start = i = j
        elif c == "?":
            j = i + 1
            while j < n and sql[j] in _DIGITS:
                j += 1
            if j > i + 1:  # ?NNN: sqlite3 looks its value up under the name "NNN"
                out.append(sql[start:i])
                out.append("?")
                names.append(sql[i + 1:j])
                seen.add(sql[i:j])
                start = i = j
                continue
            if not nameless:
                nameless = len(seen) + 1
            seen.add(i)  # each bare ? is a parameter of its own
            i = j
        else:
            i += 1
    out.append(sql[start:])
    return "".join(out), names, nameless


def bind(sql, params):
    """(sql, positional parameters) for the engine."""
    if params is None:
        return sql, None
    if type(params) is tuple or type(params) is list:
        return sql, params
    if isinstance(params, Mapping):
        entry = _cache.get(sql)
        if entry is None:
            entry = rewrite(sql)
            if len(_cache) >= _CACHE_MAX:
                _cache.clear()
            _cache[sql] = entry
        new_sql, names, nameless = entry
        if nameless:  # sqlite3's error, rather than a parameter count the user never gave
            raise ProgrammingError(f"binding {nameless} has no name, but you supplied a "
                                   "dictionary (which has only names)")
        try:
            return new_sql, tuple([params[k] for k in names])
        except KeyError as e:
            raise ProgrammingError(
                f"you did not supply a value for binding parameter :{e.args[0]}") from None
    if isinstance(params, (str, bytes)):
        raise ProgrammingError("parameters are a sequence or a mapping, not a single "
                               f"{type(params).__name__}")
    return sql, tuple(params)

/* values.c — Python objects to rhei_value parameters and result cells back to Python objects.
 * The mapping is exact both ways: int, float, str, bytes, bool, decimal.Decimal, datetime.date,
 * UTC-aware datetime.datetime (microseconds), None. SQLite-served cells keep their storage
 * class in rhei; the column's declared type (DATE, TIMESTAMP, DECIMAL(p,s), BOOLEAN) says how
 * a text or number cell decodes, so a value reads back the same from either side. */
#include "pyrhei.h"
#include <datetime.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdlib.h>

static PyObject *Decimal;       /* decimal.Decimal */
static PyObject *quant[19];     /* Decimal("1e-s") for quantize, made on first use */

int prh_values_init(void)
{
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI)
        return -1;
    PyObject *m = PyImport_ImportModule("decimal");
    if (!m)
        return -1;
    Decimal = PyObject_GetAttrString(m, "Decimal");
    Py_DECREF(m);
    return Decimal ? 0 : -1;
}

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int bind_error(Py_ssize_t i, PyObject *o, const char *why)
{
    char msg[200];
    snprintf(msg, sizeof msg, "cannot bind parameter %zd: %s '%.60s'", i + 1, why,
             Py_TYPE(o)->tp_name);
    prh_raise(RHEI_TYPE, msg);
    return -1;
}

static int datetime_value(PyObject *o, rhei_value *v)
{
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o),
                                   PyDateTime_GET_DAY(o));
    int64_t us = ((days * 24 + PyDateTime_DATE_GET_HOUR(o)) * 60 + PyDateTime_DATE_GET_MINUTE(o))
                 * 60 + PyDateTime_DATE_GET_SECOND(o);
    us = us * 1000000 + PyDateTime_DATE_GET_MICROSECOND(o);
    if (PyDateTime_DATE_GET_TZINFO(o) != Py_None) { /* aware: to UTC; naive is taken as UTC */
        PyObject *off = PyObject_CallMethod(o, "utcoffset", NULL);
        if (!off)
            return -1;
        if (PyDelta_Check(off))
            us -= ((int64_t)PyDateTime_DELTA_GET_DAYS(off) * 86400 +
                   PyDateTime_DELTA_GET_SECONDS(off)) * 1000000 +
                  PyDateTime_DELTA_GET_MICROSECONDS(off);
        Py_DECREF(off);
    }
    v->type = RHEI_TYPE_TIMESTAMP;
    v->i = us;
    return 0;
}

/* Hands o (a new reference) to *keep, the list made on first use; -1 with an exception. */
static int keep_new(PyObject **keep, PyObject *o)
{
    if (!*keep && !(*keep = PyList_New(0))) {
        Py_DECREF(o);
        return -1;
    }
    int rc = PyList_Append(*keep, o);
    Py_DECREF(o);
    return rc;
}

static int decimal_value(Py_ssize_t i, PyObject *o, rhei_value *v, PyObject **keep)
{
    PyObject *fin = PyObject_CallMethod(o, "is_finite", NULL);
    if (!fin)
        return -1;
    int ok = PyObject_IsTrue(fin);
    Py_DECREF(fin);
    if (ok != 1)
        return ok < 0 ? -1 : bind_error(i, o, "a NaN or infinite value of type");
    PyObject *fmt = PyUnicode_FromString("f"); /* plain digits: no exponent for the engine */
    PyObject *s = fmt ? PyObject_Format(o, fmt) : NULL;
    Py_XDECREF(fmt);
    if (!s || keep_new(keep, s) < 0)
        return -1;
    Py_ssize_t n;
    v->s = PyUnicode_AsUTF8AndSize(s, &n); /* s lives in *keep */
    v->n = (size_t)n;
    v->type = RHEI_TYPE_DECIMAL;
    return v->s ? 0 : -1;
}

static int one_value(Py_ssize_t i, PyObject *o, rhei_value *v, PyObject **keep)
{
    memset(v, 0, sizeof *v);
    if (o == Py_None)
        return 0;
    if (PyBool_Check(o)) {
        v->type = RHEI_TYPE_BOOLEAN;
        v->i = o == Py_True;
    } else if (PyLong_Check(o)) {
        int over = 0;
        v->type = RHEI_TYPE_INTEGER;
        v->i = PyLong_AsLongLongAndOverflow(o, &over);
        if (over) {
            PyErr_Format(PyExc_OverflowError, "parameter %zd does not fit in 64 bits", i + 1);
            return -1;
        }
        if (v->i == -1 && PyErr_Occurred())
            return -1;
    } else if (PyFloat_Check(o)) {
        v->type = RHEI_TYPE_REAL;
        v->f = PyFloat_AS_DOUBLE(o);
    } else if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        v->type = RHEI_TYPE_TEXT;
        v->s = PyUnicode_AsUTF8AndSize(o, &n);
        v->n = (size_t)n;
        if (!v->s)
            return -1;
    } else if (PyBytes_Check(o)) {
        v->type = RHEI_TYPE_BLOB;
        v->s = PyBytes_AS_STRING(o);
        v->n = (size_t)PyBytes_GET_SIZE(o);
    } else if (PyByteArray_Check(o) || PyMemoryView_Check(o)) {
        PyObject *b = PyBytes_FromObject(o); /* a copy: the original may change meanwhile */
        if (!b || keep_new(keep, b) < 0)
            return -1;
        v->type = RHEI_TYPE_BLOB;
        v->s = PyBytes_AS_STRING(b);
        v->n = (size_t)PyBytes_GET_SIZE(b);
    } else if (PyDateTime_Check(o)) {
        return datetime_value(o, v);
    } else if (PyDate_Check(o)) {
        v->type = RHEI_TYPE_DATE;
        v->i = days_from_civil(PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o),
                               PyDateTime_GET_DAY(o));
    } else {
        int is_dec = PyObject_IsInstance(o, Decimal);
        if (is_dec < 0)
            return -1;
        if (!is_dec)
            return bind_error(i, o, "unsupported type");
        return decimal_value(i, o, v, keep);
    }
    return 0;
}

int prh_to_values(PyObject *tuple, rhei_value *out, Py_ssize_t n, PyObject **keep)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (one_value(i, PyTuple_GET_ITEM(tuple, i), &out[i], keep) < 0)
            return -1;
    return 0;
}

/* --- cells ---------------------------------------------------------------------------- */

/* The same reading of a declared type as the engine's type map (rhei.h), for the names
 * that decide a decoding: BOOL*, DECIMAL/NUMERIC[(p[,s])] (default 18,3), TIMESTAMP/DATETIME,
 * DATE. Other declarations keep the cell's own type. */
void prh_column_kind(const char *decl, rhei_type t, unsigned char *kind, signed char *prec,
                     signed char *scale)
{
    char up[64];
    size_t i = 0;
    *kind = (unsigned char)t;
    *prec = *scale = -1;
    if (!decl)
        return;
    for (; decl[i] && i < sizeof up - 1; i++)
        up[i] = (char)toupper((unsigned char)decl[i]);
    up[i] = '\0';
    if (strstr(up, "BOOL")) {
        *kind = RHEI_TYPE_BOOLEAN;
    } else if (strstr(up, "DECIMAL") || strstr(up, "NUMERIC")) {
        const char *open = strchr(up, '(');
        long p = 18, s = 3;
        *kind = RHEI_TYPE_DECIMAL;
        if (open) {
            char *end = NULL;
            long pp = strtol(open + 1, &end, 10);
            if (end != open + 1 && pp >= 1 && pp <= 38) {
                p = pp;
                s = 0;
                while (*end == ' ')
                    end++;
                if (*end == ',') {
                    long ss = strtol(end + 1, NULL, 10);
                    if (ss >= 0 && ss <= pp)
                        s = ss;
                }
            }
        }
        *prec = (signed char)p;
        *scale = (signed char)s;
    } else if (strstr(up, "TIMESTAMP") || strstr(up, "DATETIME")) {
        *kind = RHEI_TYPE_TIMESTAMP;
    } else if (strcmp(up, "DATE") == 0) {
        *kind = RHEI_TYPE_DATE;
    }
}

static PyObject *date_from_days(int64_t days)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    return PyDate_FromDate(y, m, d);
}

static PyObject *ts_from_us(int64_t us)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0) {
        frac += 1000000;
        secs--;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    return PyDateTimeAPI->DateTime_FromDateAndTime(y, m, d, (int)(rem / 3600),
                                                   (int)(rem % 3600 / 60), (int)(rem % 60),
                                                   (int)frac, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|+00[:00]]" as SQLite holds them; NULL if not one. */
static PyObject *parse_text_time(const char *s, size_t n, int want_ts)
{
    char buf[48];
    if (n >= sizeof buf)
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    const char *p = buf;
    int y, mo, d, h = 0, mi = 0, sec = 0, us = 0;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return NULL;
    if (!want_ts)
        return *p ? NULL : PyDate_FromDate(y, mo, d);
    if (*p == ' ' || *p == 'T') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return NULL;
        if (*p == ':' && (p++, digits(&p, 2, &sec)))
            return NULL;
        if (*p == '.') {
            int k = 0;
            for (p++; isdigit((unsigned char)*p); p++, k++)
                if (k < 6)
                    us = us * 10 + (*p - '0');
            for (; k < 6; k++)
                us *= 10;
        }
    }
    if (*p == 'Z' || strcmp(p, "+00") == 0 || strcmp(p, "+00:00") == 0)
        p += strlen(p);
    if (*p)
        return NULL;
    return PyDateTimeAPI->DateTime_FromDateAndTime(y, mo, d, h, mi, sec, us,
                                                   PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
}

static PyObject *make_decimal(PyObject *text, int scale)
{
    if (!text)
        return NULL;
    PyObject *d = PyObject_CallOneArg(Decimal, text);
    Py_DECREF(text);
    if (!d || scale < 0 || scale > 18)
        return d;
    if (!quant[scale]) {
        char q[16];
        snprintf(q, sizeof q, "1e-%d", scale);
        PyObject *qs = PyUnicode_FromString(q);
        quant[scale] = qs ? PyObject_CallOneArg(Decimal, qs) : NULL;
        Py_XDECREF(qs);
        if (!quant[scale]) {
            Py_DECREF(d);
            return NULL;
        }
    }
    PyObject *r = PyObject_CallMethod(d, "quantize", "O", quant[scale]);
    if (!r) { /* more digits than the scale allows: keep the exact value */
        PyErr_Clear();
        return d;
    }
    Py_DECREF(d);
    return r;
}

PyObject *prh_cell(const prh_result *pr, size_t row, size_t col)
{
    rhei_value v = rhei_result_value(pr->r, row, col);
    int kind = pr->kind[col];
    switch (v.type) {
    case RHEI_TYPE_NULL: Py_RETURN_NONE;
    case RHEI_TYPE_INTEGER:
        if (kind == RHEI_TYPE_BOOLEAN)
            return PyBool_FromLong(v.i != 0);
        if (kind == RHEI_TYPE_DECIMAL)
            return make_decimal(PyUnicode_FromFormat("%lld", (long long)v.i), pr->scale[col]);
        return PyLong_FromLongLong(v.i);
    case RHEI_TYPE_REAL:
        if (kind == RHEI_TYPE_DECIMAL) {
            char *t = PyOS_double_to_string(v.f, 'r', 0, 0, NULL);
            PyObject *s = t ? PyUnicode_FromString(t) : NULL;
            PyMem_Free(t);
            return make_decimal(s, pr->scale[col]);
        }
        return PyFloat_FromDouble(v.f);
    case RHEI_TYPE_TEXT:
        if (kind == RHEI_TYPE_DATE || kind == RHEI_TYPE_TIMESTAMP) {
            PyObject *t = parse_text_time(v.s, v.n, kind == RHEI_TYPE_TIMESTAMP);
            if (t || PyErr_Occurred())
                return t;
        } else if (kind == RHEI_TYPE_DECIMAL) {
            PyObject *t = make_decimal(PyUnicode_DecodeUTF8(v.s, (Py_ssize_t)v.n, NULL),
                                       pr->scale[col]);
            if (t)
                return t;
            PyErr_Clear(); /* not a number after all: give the text */
        }
        return PyUnicode_DecodeUTF8(v.s ? v.s : "", (Py_ssize_t)v.n, NULL);
    case RHEI_TYPE_BLOB: return PyBytes_FromStringAndSize(v.s ? v.s : "", (Py_ssize_t)v.n);
    case RHEI_TYPE_BOOLEAN: return PyBool_FromLong(v.i != 0);
    case RHEI_TYPE_DECIMAL:
        return make_decimal(PyUnicode_DecodeUTF8(v.s ? v.s : "0", (Py_ssize_t)v.n, NULL), -1);
    case RHEI_TYPE_DATE: return date_from_days(v.i);
    case RHEI_TYPE_TIMESTAMP: return ts_from_us(v.i);
    }
    Py_RETURN_NONE;
}

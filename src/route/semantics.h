/* semantics.h — the same-answer rules: which tokens of a read make DuckDB's answer differ
 * from SQLite's (README.md, "Same answer on either side"). Stateless, allocation-free. */
#ifndef RHEI_ROUTE_SEMANTICS_H
#define RHEI_ROUTE_SEMANTICS_H
#include "lex.h"
#include "rhei.h"

/* What the tokens just before t were (the rules look one token back). */
typedef struct rhei__sem_prev {
    int dot;   /* '.': t is a qualified name part, never a known function */
    int arith; /* + - * / */
    int close; /* ')' or END: a computed operand ended */
    int real;  /* the product before a '/' has a REAL literal factor: it divides a REAL */
} rhei__sem_prev;

/* The reason t (keyword id kw, lx just past it) keeps a read on SQLite, one of the
 * RHEI_ROUTE_SEM_* codes, or RHEI_ROUTE_EMPTY when t is harmless. When a function call
 * decided, *out_fn is its name token; otherwise out_fn->n is 0. */
rhei_route_reason rhei__route_semantics(const rhei__lex *lx, const rhei__tok *t, int kw,
                                        const rhei__sem_prev *prev, rhei__tok *out_fn);
/* 1 if the tokens after lx (just past a LIKE) are a plain string literal pattern of at most
 * 50,000 bytes, optionally followed by ESCAPE and a one-character literal: the form
 * rhei__route_olap_text (rewrite.c) rewrites. */
int rhei__route_like_literal(const rhei__lex *lx);
#endif

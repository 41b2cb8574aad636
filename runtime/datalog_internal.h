/* runtime/datalog_internal.h -- shared by datalog.c (checks, strata,
** semi-naive evaluation) and datalog_query.c (the tabled query rewrite). */
#ifndef TL_RUNTIME_DATALOG_INTERNAL_H
#define TL_RUNTIME_DATALOG_INTERNAL_H

#include "runtime/datalog.h"

/* Evaluates every stratum of p to its fixpoint over rels[pred] (pointers:
** relations of predicates without rules may be shared with the caller; they
** are only read, though indexes may be added to them). */
tl_status tl_dl_eval(const tl_dl_program *p, tl_rel **rels, tl_dl_stats *stats, tl_dl_error *err);

/* The strongly connected components of the predicate dependency graph in an
** order where a component comes after everything it depends on:
** scc[pred] = component number, *n_scc components (0-based, in that order). */
tl_status tl_dl_sccs(const tl_dl_program *p, int *scc, int *n_scc);

#endif

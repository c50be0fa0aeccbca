/*
 * util.h - the conventions every resource follows, built once; each has
 * its own header and file:
 *   validate.h   request validation (422 with an "errors" array)
 *   render.h     rows rendered as JSON
 *   paging.h     keyset pagination with opaque cursors
 *   precond.h    ETags and preconditions
 *   request.h    the caller, the audit record
 * and api-int.h, what API files offer each other.
 */
#ifndef COHORTD_API_UTIL_H
#define COHORTD_API_UTIL_H

#include "validate.h"
#include "render.h"
#include "paging.h"
#include "precond.h"
#include "request.h"
#include "api-int.h"

#endif

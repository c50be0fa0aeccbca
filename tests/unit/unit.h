/*
 * unit.h - what the Check-based unit tests share: run a suite and report
 * in TAP, so automake's driver counts each test case.
 */
#ifndef COHORTD_UNIT_H
#define COHORTD_UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif

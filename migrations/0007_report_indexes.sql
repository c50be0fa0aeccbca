-- 0007_report_indexes.sql - indexes the reports were measured to need
-- (bench/reports; docs/PERFORMANCE.md has the plans).

-- Exercise analytics finds an exercise's submissions among all of a
-- tenant's: 34k rows by index instead of a scan of 1M.
CREATE INDEX submissions_exercise ON submissions (tenant_id, exercise_id)
	WHERE exercise_id IS NOT NULL;

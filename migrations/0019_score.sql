-- 0019_score.sql - the one scoring rule, for quizzes and exercises alike:
-- the late penalty, the final score and whether it passes.
--
-- A quiz is graded by the API as it is submitted (api/submissions.c); an
-- exercise by a grader, later (daemon/worker.c).  Both write a submission
-- through these functions, so the rule cannot drift between them.  The
-- penalty is fixed when the work comes in (a regrade or a re-measurement
-- does not make it later); the final score and the pass follow from the
-- score whenever it is written.

-- Percent of the score taken for days_late days late: per_day percent a
-- day, never more than (100 - floor) percent.
CREATE FUNCTION score_late_penalty(p_days_late int, p_per_day numeric,
	p_floor numeric) RETURNS numeric
	LANGUAGE sql IMMUTABLE
AS $$
	SELECT CASE WHEN p_days_late > 0 THEN least(p_per_day * p_days_late,
	    100 - p_floor) ELSE 0 END
$$;

-- The score (a percent) after the penalty (a percent of it), to the six
-- decimals scores are kept in: 5 of 6 right (83.333333) two days late at
-- 8% a day is 70.000000, which passes a pass_score of 70, not 69.99999972,
-- which would not.
CREATE FUNCTION score_final(p_score numeric, p_penalty numeric)
	RETURNS numeric LANGUAGE sql IMMUTABLE
AS $$
	SELECT round(p_score * (100 - p_penalty) / 100, 6)
$$;

-- Does a final score pass an assessment's pass_score?
CREATE FUNCTION score_passed(p_final numeric, p_pass_score numeric)
	RETURNS boolean LANGUAGE sql IMMUTABLE
AS $$
	SELECT p_final >= p_pass_score
$$;

-- Reserved for another branch's migration (issue 17 uses platform 0012 and the runner refuses gaps).
-- DELETE this file when that branch's migration of the same number is merged.
SELECT 1;

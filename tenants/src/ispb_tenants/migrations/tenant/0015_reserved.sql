-- Reserved for another branch's migration (issue 16 uses tenant 0017 and platform 0011, and the runner refuses gaps).
-- DELETE this file when that branch's migration of the same number is merged.
SELECT 1;

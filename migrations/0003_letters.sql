-- Letters of encouragement (issue 5): filled in by the letters work.
SELECT 1;

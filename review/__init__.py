"""Review chain, reviewer task queue, rubric, automatic pre-checks and SLAs (issue: three-level review)."""

"""Reading and writing tables, schemas, PII detection, cohorts and the demo cohort."""

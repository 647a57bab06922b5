"""Administrator pages and API for SLA policies, the business calendar, rejection
reasons and canned replies (issue 10)."""

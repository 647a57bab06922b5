# Review tasks, rules and SLA policies arrive with their issues.

"""Measurements and verdicts for progressive delivery, with no Kubernetes client in sight.

- conditions.py + expr/: Argo's success/failure conditions, expr-lang exactly as Argo evaluates it, with a budget;
- measurement.py: one measurement's phase from the conditions;
- run.py: the pure AnalysisRun rules (limits, schedule, termination, dry-run, retention);
- templating.py: `{{args.x}}` substitution; redaction.py: secret values (and any piece of one) out of text;
- measuring.py: carrying out due measurements through the providers;
- providers/: the MetricProvider protocol and the prometheus, web, job and judge providers;
- judges/: the statistical canary judge (fixed-horizon and anytime-valid sequential).
The controller (rollouts.controller.analysis_runs) reads and writes AnalysisRuns and calls into here.
"""

"""The Application reconciler: Git as the source of truth for the cluster (Argo CD's Application, core schema).

See README.md beside this file for the modules, the behaviour and what is not supported. The entry point for
the controller process is ``rollouts.gitops.reconciler.run_applications``.
"""

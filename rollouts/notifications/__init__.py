"""Notifications as Argo's notifications engine sends them: triggers, templates, services, subscriptions.

Pure parts (parsing the ConfigMap, evaluating triggers, rendering Go templates in ``gotemplate``) know
nothing of Kubernetes or the event loop; the services speak HTTP/SMTP; the controller side (which objects,
when, and the durable record of what was sent) lives in rollouts.controller.
"""

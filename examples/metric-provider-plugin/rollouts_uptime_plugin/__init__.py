"""Example metric-provider plugin: GET a JSON endpoint answering {"up": <n>, "total": <m>} and measure up/total.

Configuration (the metric's `provider.plugin["example.com/uptime"]`):

    url:            the endpoint (required)
    timeoutSeconds: request timeout (default 5)

`result` is a float in [0, 1], so `successCondition: result >= 0.99` works as for any provider. A failed
request raises, which the controller records as an Error measurement with this message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from analysis.providers.base import MeasurementContext
from analysis.providers.plugin import ValuePlugin
from rollouts.api.analysis import Metric


class UptimePlugin(ValuePlugin):
    async def value(self, config: Mapping[str, Any], metric: Metric, context: MeasurementContext) -> Any:
        url = config.get("url")
        if not isinstance(url, str) or not url:
            raise ValueError("example.com/uptime needs config.url")
        timeout = aiohttp.ClientTimeout(total=float(config.get("timeoutSeconds", 5)))
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
            if response.status != 200:
                raise RuntimeError(f"GET {url}: HTTP {response.status}")
            body = await response.json(content_type=None)
        up, total = body.get("up"), body.get("total")
        if not isinstance(up, int | float) or not isinstance(total, int | float) or total <= 0:
            raise ValueError(f"GET {url}: expected {{\"up\": n, \"total\": m > 0}}, got {body}")
        return up / total

"""A route class for the hottest routes: the endpoint gets the request as it is.

FastAPI's own handler solves dependencies and validates parameters for every request, which
costs more than a cached data request itself. An endpoint of a ``DirectRoute`` takes its path
parameters and the ``Request`` as keyword arguments, reads everything else from the request
itself, and returns a ``Response``. Its signature still describes the route in the OpenAPI
document, and its errors go through the app's exception handlers like any other route's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class DirectRoute(APIRoute):
    """Calls ``endpoint(**path_params, request=request)``; only str path parameters."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            response: Response = await endpoint(**request.path_params, request=request)
            return response

        return handle

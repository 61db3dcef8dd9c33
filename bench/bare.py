"""The ceiling: a bare Pyramid app answering a small JSON object, on the same server."""

from pyramid.config import Configurator


def hello(request):
    return {"status": "ok", "items": [1, 2, 3]}


def main(global_config, **settings):
    with Configurator(settings=settings) as config:
        config.add_route("hello", "/")
        config.add_view(hello, route_name="hello", renderer="json")
        return config.make_wsgi_app()

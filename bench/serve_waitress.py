"""Serve an ini file's app with waitress on a port (pserve would need a server section)."""

import sys

from pyramid.paster import get_app
from waitress import serve

if __name__ == "__main__":
    serve(get_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=8, _quiet=True)

"""A minimal web app to put in a container."""

import os
import platform

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return {"message": "Hello from a container", "python": platform.python_version()}


@app.get("/up")
def up():
    return "ok\n"


if __name__ == "__main__":
    # All interfaces: the container's own 127.0.0.1 is unreachable from the host.
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "8000")))

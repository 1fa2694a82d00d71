# The course site as a container image: MkDocs builds the pages in the first
# stage, and nginx serves them as an unprivileged user in the second. Run it
# with `docker compose up docs`.

FROM python:3.13-slim-trixie AS build
WORKDIR /src
COPY requirements/site.txt requirements/site.txt
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --root-user-action=ignore -r requirements/site.txt
ENV NO_MKDOCS_2_WARNING=1 \
    PYTHONDONTWRITEBYTECODE=1
# What the build reads; .dockerignore lets only the macros module of scripts/
# through, and the pages include files from examples/.
COPY mkdocs.yml ./
COPY overrides overrides/
COPY scripts scripts/
COPY data data/
COPY examples examples/
COPY docs docs/
# Instant navigation works only at the address in site_url, and the 404 page
# loads its assets from its path. compose.yaml passes the published address.
ARG SITE_URL=http://127.0.0.1:8080/
RUN mkdocs build --strict

FROM nginxinc/nginx-unprivileged:1.28-trixie AS runtime
COPY nginx/site.conf /etc/nginx/conf.d/default.conf
COPY --from=build /src/site /usr/share/nginx/html
# The base image's user nginx; the files above stay owned by root, so the
# server cannot change the site.
USER 101
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --start-interval=1s \
    CMD ["curl", "--fail", "--silent", "--output", "/dev/null", "http://127.0.0.1:8080/up"]
CMD ["nginx", "-g", "daemon off;"]

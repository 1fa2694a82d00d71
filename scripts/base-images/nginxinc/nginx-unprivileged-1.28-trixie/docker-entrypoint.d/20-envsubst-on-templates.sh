#!/bin/sh
# Fill in the templates with the environment. A template is a file under
# NGINX_ENVSUBST_TEMPLATE_DIR (/etc/nginx/templates) whose name ends in
# NGINX_ENVSUBST_TEMPLATE_SUFFIX (.template). Its output goes to the same
# subfolder of NGINX_ENVSUBST_OUTPUT_DIR (/etc/nginx/conf.d), without the
# suffix. Only variables that are set are replaced, so nginx's own $variables
# stay. NGINX_ENVSUBST_FILTER, a regular expression, limits the replacement to
# the names that match it.
set -e

template_dir="${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}"
suffix="${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}"
output_dir="${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}"
filter="${NGINX_ENVSUBST_FILTER:-}"

if [ ! -d "$template_dir" ]; then
  exit 0
fi
if [ ! -w "$output_dir" ]; then
  echo "$0: error: $output_dir is not writable, so no template is filled in;" \
    "make it writable or set NGINX_ENVSUBST_OUTPUT_DIR" >&2
  exit 0
fi

# envsubst replaces only the variables named in this list, such as '${PORT}'.
# An empty filter matches every name.
defined_envs=$(awk -v filter="$filter" '
  END { for (name in ENVIRON) if (name ~ filter) printf "${%s} ", name }
' < /dev/null)

find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
  relative_path="${template#"$template_dir/"}"
  output_path="$output_dir/${relative_path%"$suffix"}"
  mkdir -p "$(dirname "$output_path")"
  echo "$0: Running envsubst on $template to $output_path"
  envsubst "$defined_envs" < "$template" > "$output_path"
done

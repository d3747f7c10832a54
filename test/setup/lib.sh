# Sourced by test/run-all.sh and test/setup/install.sh (bash): the environment clean-up below, and
# npm_cause, which names why an install step failed in one line.
#
# `npm test` and `npm start` run under the repository's npm (on Node 20+), which exports its own
# configuration into the environment: npm_config_user_agent ("npm/… node/v20…"), npm_config_prefix,
# npm_config_cache, npm_config_node_gyp, npm_config_nodedir, npm_execpath, npm_lifecycle_*,
# npm_package_*, INIT_CWD, NODE and more. Every nested npm, node-gyp or install script would read
# those as if the user had set them: code-server's postinstall reads the Node major version from
# npm_config_user_agent and refuses Node 24 because the *parent* ran on Node 20; a nested npm on
# Node 24 would build with Node 20's node-gyp and headers. So the scripts start from the same
# environment a plain shell gives them.
#
# Kept: the settings that say how to reach the registry (registry, scoped registries, proxies,
# certificates), because a user who sets them in the environment means them for every npm.
# The JavaScript twin of this list is test/harness/cleanEnv.ts (npm start, code-server); a unit test checks
# that both keep and drop the same names.
hailo_keep_npm_var() {
  local k
  k="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')"
  case "$k" in
    npm_config_registry | npm_config_*:registry | npm_config_proxy | npm_config_https_proxy | \
      npm_config_http_proxy | npm_config_noproxy | npm_config_no_proxy | npm_config_cafile | \
      npm_config_ca | npm_config_strict_ssl)
      return 0 ;;
  esac
  return 1
}
hailo_clean_npm_env() {
  local v lower
  while IFS= read -r v; do
    lower="$(printf '%s' "$v" | tr '[:upper:]' '[:lower:]')"
    case "$lower" in
      npm_* | init_cwd | node | npm_node_execpath)
        hailo_keep_npm_var "$v" || unset "$v" ;;
    esac
  done < <(compgen -e)
}

# npm_cause LOG: why an npm / node-gyp / apt step failed, in a few words, from its log.
# The first pattern that matches wins, so the most specific come first.
npm_cause() {
  local f=$1 line pat
  [ -s "$f" ] || { echo "no output (see above)"; return; }
  for pat in 'requires node v[0-9]+' 'reason: [^"]*' 'ENOSPC[^"]*' 'EACCES[^"]*' 'ENOTFOUND [^ ]+' \
    'EAI_AGAIN [^ ]+' 'ETIMEDOUT[^"]*' 'ECONNREFUSED[^"]*' 'ECONNRESET[^"]*' 'E404[^"]*' 'E403[^"]*' \
    'EINTEGRITY[^"]*' 'gyp ERR! stack Error: [^"]*' 'gyp ERR! [^"]*' 'npm (error|ERR!) code [A-Z0-9_]+' \
    'E: [^"]*' 'Killed' 'ERROR: [^"]*'; do
    line="$(grep -m1 -oE "$pat" "$f" 2>/dev/null || true)"
    if [ -n "$line" ]; then
      case "$pat" in
        'requires node'*)
          printf '%s, but saw another Node (a parent npm'"'"'s npm_config_user_agent in the environment?)' "$line" ;;
        *) printf '%s' "${line:0:200}" ;;
      esac
      return
    fi
  done
  printf 'non-zero exit; last line: %s' "$(tail -n1 "$f" | cut -c1-160)"
}

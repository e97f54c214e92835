# Sourced by the scripts that build a product before running it. build_product PRODUCT
# CONFIG builds it, with one progress line on stderr as soon as the build has something
# to compile or fetch (a binary that is up to date says nothing); the package manager's
# and compiler's output goes to .local/log/build.log, whose last lines are shown if the
# build fails. Sets BIN_DIR to the products' folder.
build_product() {
  local product=$1 config=$2 log=.local/log/build.log pid
  mkdir -p .local/log
  swift build -c "$config" --product "$product" >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    if grep -qE "Compiling|Linking|Fetching|Cloning" "$log"; then
      echo "building $product ($config; a first build takes about 5 minutes; its output: $log)…" >&2
      break
    fi
    sleep 0.2
  done
  if ! wait "$pid"; then
    tail -n 30 "$log" >&2
    echo "the build of $product failed; its whole output is in $log" >&2
    exit 1
  fi
  BIN_DIR="$(swift build -c "$config" --show-bin-path)"
}

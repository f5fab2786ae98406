# Sourced by the install-* scripts. install_missing WHAT ROW...: each ROW is command=package; the
# packages whose commands are missing are installed with apt-get when run as root on
# Debian/Ubuntu, and otherwise named in a warning with the command that installs them.
install_missing() {
  local what=$1 row
  shift
  local missing=()
  for row in "$@"; do
    command -v "${row%%=*}" >/dev/null 2>&1 || missing+=("${row#*=}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${what}: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "warning: missing ${missing[*]}; install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
  fi
}

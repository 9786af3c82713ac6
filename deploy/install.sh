#!/usr/bin/env bash
# Installs (or uninstalls) the wasmedge_otel plugin where WasmEdge loads it without
# WASMEDGE_PLUGIN_PATH, and the C header include/wasmedge_otel.h. `make install` and
# `make uninstall` run this script; docs/deployment.md explains the directories.
#
# Usage: deploy/install.sh install|uninstall|dirs
#
# Environment (all optional):
#   PLUGIN_SO  the plugin to install (default target/release/libwasmedge_otel.so)
#   WASMEDGE   the wasmedge executable whose plugin directory to use (default: `wasmedge` on PATH)
#   PLUGINDIR  the plugin directory (default: the one that WasmEdge searches, see below)
#   PREFIX     the header goes to PREFIX/include (default: the WasmEdge installation's own prefix
#              for a WasmEdge outside /usr, such as ~/.wasmedge; /usr/local otherwise)
#   DESTDIR    stages the installation under this directory (for packaging); nothing is checked
#
# Which directory WasmEdge 0.14 searches by default (lib/plugin/plugin.cpp,
# Plugin::getDefaultPluginPaths, Linux): the directories of WASMEDGE_PLUGIN_PATH, then ONE directory
# derived from where libwasmedge.so itself was loaded from (dladdr, lexically normalised):
#   - a library under /usr or /lib (a distribution package, e.g. Debian's
#     /usr/lib/x86_64-linux-gnu/libwasmedge.so.0): LIBDIR/wasmedge, e.g.
#     /usr/lib/x86_64-linux-gnu/wasmedge;
#   - anywhere else (the official installer's ~/.wasmedge/lib): LIBDIR/../plugin, e.g.
#     ~/.wasmedge/plugin.
# So ~/.wasmedge/plugin is searched only by a WasmEdge installed in ~/.wasmedge, not because of
# $HOME. This script asks the dynamic linker (ldd) which libwasmedge the `wasmedge` executable
# loads and applies the same rule.
set -euo pipefail

action=${1:-}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
plugin_so=${PLUGIN_SO:-target/release/libwasmedge_otel.so}
header="$repo/include/wasmedge_otel.h"
destdir=${DESTDIR:-}
plugindir=${PLUGINDIR:-}
prefix=${PREFIX:-}
so_name=libwasmedge_otel.so

die() {
  echo "install.sh: $*" >&2
  exit 1
}

# Prints the directory libwasmedge.so is loaded from by the wasmedge executable $1, normalised
# lexically (no symlink resolution), as WasmEdge itself does.
wasmedge_libdir() {
  local lib
  lib=$(ldd "$1" 2>/dev/null | awk '$1 ~ /^libwasmedge\.so/ && $3 ~ /^\// { print $3; exit }')
  [ -n "$lib" ] || return 1
  realpath -m -s "$(dirname "$lib")"
}

detect_dirs() {
  local wasmedge libdir
  if [ -n "$plugindir" ] && [ -n "$prefix" ]; then
    return 0
  fi
  wasmedge=$(command -v "${WASMEDGE:-wasmedge}" 2>/dev/null) ||
    die "no wasmedge executable found (${WASMEDGE:-wasmedge}); install WasmEdge, or set PLUGINDIR and PREFIX"
  libdir=$(wasmedge_libdir "$wasmedge") ||
    die "cannot tell which libwasmedge.so $wasmedge loads (ldd); set PLUGINDIR and PREFIX"
  case "$libdir" in
  /usr* | /lib*)
    : "${plugindir:=$libdir/wasmedge}"
    : "${prefix:=/usr/local}"
    ;;
  *)
    : "${plugindir:=$(realpath -m -s "$libdir/../plugin")}"
    : "${prefix:=$(realpath -m -s "$libdir/..")}"
    ;;
  esac
}

# Whether the `wasmedge` that chose the directories lists the plugin, without WASMEDGE_PLUGIN_PATH.
listed() {
  env -u WASMEDGE_PLUGIN_PATH "${WASMEDGE:-wasmedge}" --version 2>/dev/null | grep -q "plugin \"wasmedge_otel\""
}

case "$action" in
install)
  [ -f "$plugin_so" ] || die "$plugin_so not found: build it first (make plugin)"
  detect_dirs
  if ! install -d "$destdir$plugindir" 2>/dev/null || [ ! -w "$destdir$plugindir" ]; then
    die "cannot write to $destdir$plugindir: run as root (sudo make install), or choose another directory with PLUGINDIR=... and list it in WASMEDGE_PLUGIN_PATH"
  fi
  # Write a new file and rename it over the old one: overwriting a plugin in place (cp, install)
  # crashes wasmedge processes that have it loaded (SIGBUS), a rename leaves them the old file. The
  # temporary name does not end in .so, so a WasmEdge starting meanwhile does not load it.
  install -m 0755 "$plugin_so" "$destdir$plugindir/.$so_name.new"
  mv -f "$destdir$plugindir/.$so_name.new" "$destdir$plugindir/$so_name"
  install -d "$destdir$prefix/include"
  install -m 0644 "$header" "$destdir$prefix/include/wasmedge_otel.h"
  echo "installed $destdir$plugindir/$so_name"
  echo "installed $destdir$prefix/include/wasmedge_otel.h"
  if [ -z "$destdir" ] && [ -z "${PLUGINDIR:-}" ]; then
    if listed; then
      echo "wasmedge --version lists the plugin (without WASMEDGE_PLUGIN_PATH)"
    else
      echo "install.sh: warning: wasmedge --version does not list the plugin; see docs/deployment.md" >&2
    fi
  fi
  ;;
uninstall)
  detect_dirs
  rm -f "$destdir$plugindir/$so_name" "$destdir$prefix/include/wasmedge_otel.h"
  # Remove the plugin directory only if this left it empty.
  rmdir "$destdir$plugindir" 2>/dev/null || true
  echo "removed $destdir$plugindir/$so_name"
  echo "removed $destdir$prefix/include/wasmedge_otel.h"
  ;;
dirs)
  detect_dirs
  echo "PLUGINDIR=$plugindir"
  echo "PREFIX=$prefix"
  ;;
*)
  die "usage: $0 install|uninstall|dirs"
  ;;
esac

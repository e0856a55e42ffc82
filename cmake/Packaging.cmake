# Installing Vellum as a system service, and the Debian package.
#
#   cmake --install build --prefix /usr     programs, plugins, SDK, /etc/vellum, the systemd unit
#   cpack -G DEB --config build/CPackConfig.cmake   vellum_<version>_<arch>.deb (prefix /usr)
#
# The paths that depend on the prefix (ExecStart= in the unit, the configuration directory) are
# worked out when installing, from the prefix used then, not from the one the tree was
# configured with: a tree configured for /usr/local still installs and packages correctly with
# prefix /usr. docs/install.md describes the result.

include(GNUInstallDirs)

# ---- The systemd unit ----

set(VELLUM_SYSTEMD_UNIT_DIR "" CACHE STRING
  "Directory the systemd unit is installed to, absolute or relative to the install prefix. \
Empty: systemd's own directory (pkg-config systemd, systemdsystemunitdir) when installing with \
prefix /usr, else lib/systemd/system under the prefix.")
set(vellum_unit_dir "${VELLUM_SYSTEMD_UNIT_DIR}")
set(vellum_systemd_unit_dir "")
if(NOT vellum_unit_dir)
  pkg_get_variable(vellum_systemd_unit_dir systemd systemdsystemunitdir)
  set(vellum_unit_dir lib/systemd/system)
endif()

set(vellum_config_source ${PROJECT_SOURCE_DIR}/etc/vellum.toml)
if(NOT EXISTS ${vellum_config_source})
  message(WARNING "${vellum_config_source} is missing: the installation and the package will "
    "have no /etc/vellum/vellum.toml")
  set(vellum_config_source "")
endif()

# The part of the installation that runs with the install-time prefix: the unit (from
# systemd/vellumd.service.in), the configuration file and the empty sources.d beside it.
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/InstallService.cmake @ONLY CONTENT [[
# Generated from cmake/Packaging.cmake: installs vellumd's unit and configuration.
set(vellum_prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" vellum_prefix "${vellum_prefix}")  # "/usr/" -> "/usr", "/" -> ""

# A directory setting as GNUInstallDirs would give it for the prefix used now.
macro(vellum_full_dir var setting)
  if(IS_ABSOLUTE "${setting}")
    set(${var} "${setting}")
  else()
    set(${var} "${vellum_prefix}/${setting}")
  endif()
endmacro()
vellum_full_dir(vellum_bindir "@CMAKE_INSTALL_BINDIR@")
vellum_full_dir(vellum_docdir "@CMAKE_INSTALL_DOCDIR@")
# systemd's own unit directory for a system installation; under any other prefix the unit
# stays below it (systemd also reads /usr/local/lib/systemd/system).
if(vellum_prefix MATCHES "^(/usr)?$" AND NOT "@vellum_systemd_unit_dir@" STREQUAL "")
  set(vellum_unitdir "@vellum_systemd_unit_dir@")
else()
  vellum_full_dir(vellum_unitdir "@vellum_unit_dir@")
endif()
# GNU rules: prefix / or /usr keep their configuration in /etc, /opt/<x> in /etc/opt/<x>.
set(vellum_sysconf_setting "@CMAKE_INSTALL_SYSCONFDIR@")
if(vellum_sysconf_setting STREQUAL "etc" AND vellum_prefix MATCHES "^(/usr)?$")
  set(vellum_sysconfdir /etc)
elseif(vellum_sysconf_setting STREQUAL "etc" AND vellum_prefix MATCHES "^/opt/")
  set(vellum_sysconfdir "/etc${vellum_prefix}")
else()
  vellum_full_dir(vellum_sysconfdir "${vellum_sysconf_setting}")
endif()

set(VELLUM_UNIT_BINDIR "${vellum_bindir}")
set(VELLUM_UNIT_CONFIG "${vellum_sysconfdir}/vellum/vellum.toml")
set(VELLUM_UNIT_DOCDIR "${vellum_docdir}")
set(vellum_unit "${vellum_unitdir}/vellumd.service")
message(STATUS "Installing: $ENV{DESTDIR}${vellum_unit}")
configure_file("@PROJECT_SOURCE_DIR@/systemd/vellumd.service.in" "$ENV{DESTDIR}${vellum_unit}" @ONLY)
list(APPEND CMAKE_INSTALL_MANIFEST_FILES "${vellum_unit}")

# The shipped configuration, unless one is there already: an edited file is never replaced.
if(NOT "@vellum_config_source@" STREQUAL "")
  if(EXISTS "$ENV{DESTDIR}${VELLUM_UNIT_CONFIG}")
    message(STATUS "Keeping: $ENV{DESTDIR}${VELLUM_UNIT_CONFIG} (not replaced by the shipped one)")
  else()
    file(INSTALL DESTINATION "${vellum_sysconfdir}/vellum" TYPE FILE
      FILES "@vellum_config_source@")
  endif()
endif()
message(STATUS "Installing: $ENV{DESTDIR}${vellum_sysconfdir}/vellum/sources.d")
file(MAKE_DIRECTORY "$ENV{DESTDIR}${vellum_sysconfdir}/vellum/sources.d")
]])
install(SCRIPT ${PROJECT_BINARY_DIR}/InstallService.cmake)

set(vellum_docs README.md docs/install.md docs/configuration.md docs/format.md docs/plugins.md
  docs/cli.md docs/daemon.md docs/user-guide.md docs/plugin-guide.md docs/export.md)
list(TRANSFORM vellum_docs PREPEND ${PROJECT_SOURCE_DIR}/)
foreach(doc ${vellum_docs})
  if(EXISTS ${doc})
    install(FILES ${doc} DESTINATION ${CMAKE_INSTALL_DOCDIR})
  endif()
endforeach()

# The install tests install the whole tree: build everything they install first.
if(TARGET test_install)
  get_property(vellum_site_plugins GLOBAL PROPERTY VELLUM_PLUGINS)
  add_dependencies(test_install vellum vellum-capture vellum-extract-worker vellumd
    ${vellum_site_plugins})
endif()

# ---- The Debian package ----

set(VELLUM_PACKAGE_MAINTAINER "Vellum developers <vellum-archive@users.noreply.github.com>"
  CACHE STRING "Maintainer field of the Debian package")

set(vellum_deb ${PROJECT_BINARY_DIR}/debian)
file(WRITE ${vellum_deb}/conffiles "/etc/vellum/vellum.toml\n")

file(WRITE ${vellum_deb}/postinst [[
#!/bin/sh
# vellum postinst: the system user vellumd runs as. The service is not enabled or started:
# `systemctl enable --now vellumd` once /etc/vellum is set up.
set -e

case "$1" in
  configure)
    if ! getent group vellum >/dev/null; then
      addgroup --system --quiet vellum
    fi
    if ! getent passwd vellum >/dev/null; then
      adduser --system --quiet --ingroup vellum --home /var/lib/vellum --no-create-home \
        --shell /usr/sbin/nologin vellum
    fi
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null || true
      # After an upgrade a running daemon is restarted (it drains first); a stopped one stays
      # stopped.
      if [ -n "$2" ]; then
        systemctl try-restart vellumd.service >/dev/null || true
      fi
    fi
    ;;
esac

exit 0
]])

file(WRITE ${vellum_deb}/prerm [[
#!/bin/sh
# vellum prerm: stop the daemon before its files go away (it drains captures in flight).
set -e

case "$1" in
  remove)
    if [ -d /run/systemd/system ]; then
      systemctl stop vellumd.service >/dev/null 2>&1 || true
    fi
    ;;
esac

exit 0
]])

file(WRITE ${vellum_deb}/postrm [[
#!/bin/sh
# vellum postrm. The archive (/var/lib/vellum) and the vellum user are kept, even on purge:
# removing the software must not delete years of captures.
set -e

case "$1" in
  purge)
    # Left by `systemctl enable vellumd`; the unit it pointed to is gone.
    rm -f /etc/systemd/system/multi-user.target.wants/vellumd.service
    ;;
esac

case "$1" in
  remove | purge)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload >/dev/null || true
    fi
    ;;
esac

exit 0
]])

# Runtime dependencies: the packages of the libraries the programs and plugins link directly
# (tests/install/PackageTest.cpp checks this list against the binaries), adduser for postinst
# and procps for /bin/kill (ExecReload=), and libidn2-0, opened when a host name is not ASCII
# (core/util/Idna.cpp).
set(vellum_depends adduser procps libbrotli1 libc6 libcurl4 libfmt9 libgcc-s1 libidn2-0
  libspdlog1.10 libsqlite3-0 libssl3 libstdc++6 libsystemd0 libtomlplusplus3 libxml2 libzstd1
  zlib1g)
if(VELLUM_SANITIZE)
  list(APPEND vellum_depends libasan8 libubsan1)
endif()
list(JOIN vellum_depends ", " vellum_depends)

set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_PACKAGE_NAME vellum)
set(CPACK_PACKAGE_VENDOR "Vellum")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "permanent, searchable archive of news articles and web pages")
# The long description, one line of the control file per line here.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "Vellum captures web pages politely, stores the raw HTTP exchanges as WARC/1.1"
  "records compressed with zstd, extracts each article (with a site plugin or the"
  "generic extractor) and indexes everything in SQLite, so that any capture can be"
  "found and restored byte for byte, years later."
  ""
  "This package holds the vellumd daemon, which watches feeds and sitemaps on"
  "schedules, the vellum command line tool, the site plugins and the plugin SDK.")
set(CPACK_PACKAGE_CONTACT "${VELLUM_PACKAGE_MAINTAINER}")
set(CPACK_GENERATOR DEB)
# Install into a staging DESTDIR with the real prefix, so that the absolute paths (/etc/vellum,
# the unit directory) land inside the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VELLUM_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION web)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE https://github.com/vellum-archive/vellum)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${vellum_depends}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${vellum_deb}/conffiles ${vellum_deb}/postinst ${vellum_deb}/prerm ${vellum_deb}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_SOURCE_GENERATOR TXZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/vellum-archive/")
include(CPack)

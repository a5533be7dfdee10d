# cmake/WsgateInstall.cmake — `cmake --install`, man pages and the Debian packages.
#
# Three install components, one .deb each (CPack's DEB generator, CPACK_DEB_COMPONENT_INSTALL):
#   engine -> wsgate-engine: /usr/bin/wsgate-engine, wsgate-engine.service, its man page
#   agent  -> wsgate-agent:  /usr/bin/wsgate-agent and wsgatectl, wsgate-agent.service, man pages
#   bench  -> wsgate-bench:  /usr/bin/wsgate-bench, its man page
# The docs (docs/*.md and the examples) go into each package's /usr/share/doc/<package>.
# Dependencies come from dpkg-shlibdeps on the installed binaries (CPACK_DEBIAN_PACKAGE_SHLIBDEPS),
# so they name exactly the Debian libraries each binary links (the engine: BoringSSL from
# android-libboringssl, never OpenSSL).
#
#   cmake --build build --target deb        # man pages, then build/packages/wsgate-*.deb
include(GNUInstallDirs)

set(WSGATE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "where the systemd units are installed, relative to the prefix (Debian: lib/systemd/system)")

# The BoringSSL users find Debian's android libraries through an rpath (WsgateDeps.cmake); CMake
# drops a binary's whole rpath at install unless INSTALL_RPATH says what to keep.
set_target_properties(wsgate-engine PROPERTIES INSTALL_RPATH "${BORINGSSL_LIBDIR}")
if(TARGET wsgate-bench)
  set_target_properties(wsgate-bench PROPERTIES INSTALL_RPATH "${BORINGSSL_LIBDIR}")
endif()
install(TARGETS wsgate-engine RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT engine)
install(TARGETS wsgate-agent wsgatectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT agent)
install(FILES packaging/systemd/wsgate-engine.service DESTINATION ${WSGATE_SYSTEMD_UNIT_DIR} COMPONENT engine)
install(FILES packaging/systemd/wsgate-agent.service DESTINATION ${WSGATE_SYSTEMD_UNIT_DIR} COMPONENT agent)
if(TARGET wsgate-bench)
  install(TARGETS wsgate-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT bench)
endif()

set(wsgate_docs README.md docs/architecture.md docs/cli.md docs/configuration.md docs/operations.md
    docs/walkthrough.md)
foreach(component engine agent bench)
  install(FILES ${wsgate_docs} DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/wsgate-${component} COMPONENT ${component})
endforeach()
install(FILES docs/examples/chats.textproto DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/wsgate-engine/examples
        COMPONENT engine)
install(FILES docs/benchmarks.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/wsgate-bench COMPONENT bench)

# Man pages from each binary's --help (help2man, Debian's help2man package). Built by the `man`
# target (not by `all`: running sanitizer builds' binaries at build time would need their
# runtime settings); `deb` builds it first. --version-string: help2man then does not run
# --version.
find_program(WSGATE_HELP2MAN help2man)
set(wsgate_man_pages "")
macro(wsgate_man_page target component summary)
  if(TARGET ${target})
    set(page ${PROJECT_BINARY_DIR}/man/${target}.1.gz)
    add_custom_command(OUTPUT ${page}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${WSGATE_HELP2MAN} --no-info --no-discard-stderr --version-string=${PROJECT_VERSION}
              --name=${summary} --section=1 --output=${PROJECT_BINARY_DIR}/man/${target}.1 $<TARGET_FILE:${target}>
      COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/man/${target}.1
      DEPENDS ${target}
      COMMENT "help2man ${target}"
      VERBATIM)
    list(APPEND wsgate_man_pages ${page})
    # OPTIONAL: a plain `cmake --install` without `--target man` still works; the package test
    # checks that every .deb carries its pages.
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ${component} OPTIONAL)
  endif()
endmacro()
if(WSGATE_HELP2MAN)
  wsgate_man_page(wsgate-engine engine "the wsgate WebSocket API gateway data plane")
  wsgate_man_page(wsgate-agent agent "the wsgate control plane: catalog, tokens, config push")
  wsgate_man_page(wsgatectl agent "the wsgate admin command line")
  wsgate_man_page(wsgate-bench bench "an open-loop WebSocket latency and throughput load generator")
  add_custom_target(man DEPENDS ${wsgate_man_pages})
else()
  add_custom_target(man COMMAND ${CMAKE_COMMAND} -E echo "man: help2man is missing (tools/setup.sh installs it)"
                    COMMAND ${CMAKE_COMMAND} -E false)
endif()

# Debian packages.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME wsgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "wsgate maintainers <wsgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WebSocket API gateway: io_uring relay engine and control agent")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_ENGINE_PACKAGE_NAME wsgate-engine)
set(CPACK_DEBIAN_AGENT_PACKAGE_NAME wsgate-agent)
set(CPACK_DEBIAN_BENCH_PACKAGE_NAME wsgate-bench)
set(CPACK_COMPONENT_ENGINE_DESCRIPTION
    "wsgate data plane\n wsgate-engine terminates WebSocket clients (ws and wss), authenticates the upgrade,\n routes each topic to its backend and relays frames, on one io_uring shard per core.")
set(CPACK_COMPONENT_AGENT_DESCRIPTION
    "wsgate control plane and admin CLI\n wsgate-agent keeps the catalog (SQLite), issues tokens and pushes config to the\n engines; wsgatectl is its command line.")
set(CPACK_COMPONENT_BENCH_DESCRIPTION
    "wsgate load generator\n wsgate-bench measures WebSocket latency and throughput in open loop.")
# The units are Type=notify and use systemd's sandboxing; the agent drives an engine, usually local.
set(CPACK_DEBIAN_ENGINE_PACKAGE_SUGGESTS "systemd, wsgate-agent")
set(CPACK_DEBIAN_AGENT_PACKAGE_RECOMMENDS "wsgate-engine")
set(CPACK_DEBIAN_AGENT_PACKAGE_SUGGESTS "systemd")
include(CPack)
cpack_add_component(engine DISPLAY_NAME "wsgate-engine")
cpack_add_component(agent DISPLAY_NAME "wsgate-agent and wsgatectl")
cpack_add_component(bench DISPLAY_NAME "wsgate-bench")

add_custom_target(deb
  COMMAND ${CMAKE_CPACK_COMMAND} --config ${PROJECT_BINARY_DIR}/CPackConfig.cmake -G DEB
  WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
  COMMENT "building build/packages/wsgate-{engine,agent,bench}_*.deb"
  VERBATIM)
add_dependencies(deb man)

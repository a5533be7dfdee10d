# Finds every third-party dependency (all Debian 12 packages; tools/setup.sh installs them) and
# exposes each as an imported target named wsgate::dep::<name>.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)

pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing>=2.3)
add_library(wsgate::dep::uring ALIAS PkgConfig::URING)

find_path(WSLAY_INCLUDE_DIR wslay/wslay.h REQUIRED)
find_library(WSLAY_LIBRARY wslay REQUIRED)
add_library(wsgate_dep_wslay INTERFACE)
target_include_directories(wsgate_dep_wslay INTERFACE ${WSLAY_INCLUDE_DIR})
target_link_libraries(wsgate_dep_wslay INTERFACE ${WSLAY_LIBRARY})
add_library(wsgate::dep::wslay ALIAS wsgate_dep_wslay)

pkg_check_modules(PROTOBUF REQUIRED IMPORTED_TARGET protobuf>=3.21)
add_library(wsgate::dep::protobuf ALIAS PkgConfig::PROTOBUF)
find_program(PROTOC protoc REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# Two gRPC flavours. grpc++_unsecure links no OpenSSL at all; the engine uses it so that its
# process holds exactly one TLS library, BoringSSL (DESIGN.md, "BoringSSL and gRPC must never
# share a process's TLS symbols"). The agent and wsgatectl use the regular grpc++ (OpenSSL 3).
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++>=1.51)
add_library(wsgate::dep::grpc ALIAS PkgConfig::GRPCPP)
pkg_check_modules(GRPCPP_UNSECURE REQUIRED IMPORTED_TARGET grpc++_unsecure>=1.51)
add_library(wsgate::dep::grpc_unsecure ALIAS PkgConfig::GRPCPP_UNSECURE)
find_library(GRPCPP_REFLECTION_LIBRARY grpc++_reflection REQUIRED)

# OpenSSL 3 for the agent's token signing (never in the engine's process).
find_package(OpenSSL 3 REQUIRED)

# The agent's JWKS fetches from external identity providers (libcurl4-openssl-dev: curl built
# against OpenSSL 3, so only ever in the agent's process, never the engine's).
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl>=7.85)
add_library(wsgate::dep::curl ALIAS PkgConfig::CURL)

pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
add_library(wsgate::dep::sqlite3 ALIAS PkgConfig::SQLITE3)
# The catalog on PostgreSQL (issue 19, --catalog postgres://...): libpq (libpq-dev 15, built
# against OpenSSL 3, so only ever in the agent's process, never the engine's).
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
add_library(wsgate::dep::pq ALIAS PkgConfig::PQ)

# The agent's OAuth2 HTTP endpoint (libcpp-httplib-dev 0.11, built against OpenSSL 3, so never in
# the engine's process) and the JSON it writes (nlohmann-json3-dev 3.11, header-only).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
add_library(wsgate::dep::httplib ALIAS PkgConfig::HTTPLIB)
find_package(nlohmann_json 3.11 REQUIRED)
add_library(wsgate::dep::json ALIAS nlohmann_json::nlohmann_json)

# wsgatectl's declarative configuration and WSO2 import (cfg-decl): YAML (libyaml-cpp-dev 0.7) and
# apictl project archives (libzip-dev). Only the CLI links them.
pkg_check_modules(YAMLCPP REQUIRED IMPORTED_TARGET yaml-cpp>=0.7)
add_library(wsgate::dep::yaml ALIAS PkgConfig::YAMLCPP)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
add_library(wsgate::dep::zip ALIAS PkgConfig::LIBZIP)

# BoringSSL from android-libboringssl-dev: headers under /usr/include/android, libraries under
# <libdir>/android with SONAME libcrypto.so.0/libssl.so.0, so consumers need an rpath.
find_path(BORINGSSL_INCLUDE_DIR openssl/base.h PATHS /usr/include/android NO_DEFAULT_PATH REQUIRED)
find_library(BORINGSSL_CRYPTO_LIBRARY crypto
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android NO_DEFAULT_PATH REQUIRED)
find_library(BORINGSSL_SSL_LIBRARY ssl
             PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/android NO_DEFAULT_PATH REQUIRED)
get_filename_component(BORINGSSL_LIBDIR ${BORINGSSL_CRYPTO_LIBRARY} DIRECTORY)
add_library(wsgate_dep_boringssl INTERFACE)
target_include_directories(wsgate_dep_boringssl SYSTEM INTERFACE ${BORINGSSL_INCLUDE_DIR})
target_link_libraries(wsgate_dep_boringssl INTERFACE ${BORINGSSL_SSL_LIBRARY}
                      ${BORINGSSL_CRYPTO_LIBRARY} "-Wl,-rpath,${BORINGSSL_LIBDIR}")
add_library(wsgate::dep::boringssl ALIAS wsgate_dep_boringssl)

if(WSGATE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(WSGATE_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

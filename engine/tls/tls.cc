// File: engine/tls/tls.cc — BoringSSL behind engine/tls/tls.h.
#include "engine/tls/tls.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/tls/ticket_keys.h"

namespace wsgate::engine::tls {
namespace {

// Forward-secret AEAD suites for TLS 1.2 (TLS 1.3 suites are fixed and all modern).
constexpr char kCiphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

std::string LastSslError() {
  uint32_t e = ERR_get_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

std::string AsnTime(const ASN1_TIME* t) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(bio.get(), t);
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

SSL_CTX* NewCtx(bool server) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_strict_cipher_list(ctx, kCiphers);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (server) SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  return ctx;
}

int SelectAlpn(SSL*, const uint8_t** out, uint8_t* out_len, const uint8_t* in, unsigned in_len, void*) {
  // Only http/1.1 (a WebSocket upgrade); a client offering nothing we speak gets no ALPN.
  static const uint8_t kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  uint8_t* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof(kHttp11), in, in_len) == OPENSSL_NPN_NEGOTIATED) {
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Server

struct ServerTlsContext::Entry {
  std::string server_name;  // lower-case; "" for the default
  SSL_CTX* ctx = nullptr;
  std::string description;
  ~Entry() { SSL_CTX_free(ctx); }
};

namespace {

// The chain and key of `spec` into `ctx`, from its PEM text or its files; *cert_name names the
// certificate in later messages.
absl::Status UseCertificate(SSL_CTX* ctx, const CertSpec& spec, std::string* cert_name) {
  ERR_clear_error();
  bool pem = !spec.cert_pem.empty();
  *cert_name = pem ? "cert_pem" : spec.cert_file;
  std::string key_name = pem ? "key_pem" : spec.key_file;
  if (pem) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(spec.cert_pem.data(), spec.cert_pem.size()));
    bssl::UniquePtr<X509> leaf(PEM_read_bio_X509_AUX(bio.get(), nullptr, nullptr, nullptr));
    if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
      return absl::InvalidArgumentError(absl::StrCat("certificate cert_pem: not a PEM certificate (", LastSslError(), ")"));
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) SSL_CTX_add0_chain_cert(ctx, ca);
    ERR_clear_error();  // the end of the PEM text
  } else if (SSL_CTX_use_certificate_chain_file(ctx, spec.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("certificate ", spec.cert_file, ": ", LastSslError()));
  }
  int ok;
  if (pem) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(spec.key_pem.data(), spec.key_pem.size()));
    bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) return absl::InvalidArgumentError(absl::StrCat("key key_pem: not a PEM private key (", LastSslError(), ")"));
    key_name = "key_pem";
    ok = SSL_CTX_use_PrivateKey(ctx, key.get());
  } else {
    ok = SSL_CTX_use_PrivateKey_file(ctx, spec.key_file.c_str(), SSL_FILETYPE_PEM);
  }
  if (ok != 1) {
    bool mismatch = ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
    std::string why = LastSslError();
    if (mismatch) return absl::InvalidArgumentError(absl::StrCat("key ", key_name, " does not match certificate ", *cert_name));
    return absl::InvalidArgumentError(absl::StrCat("key ", key_name, ": ", why));
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return absl::InvalidArgumentError(absl::StrCat("key ", key_name, " does not match certificate ", *cert_name));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<ServerTlsContext>> ServerTlsContext::Create(const std::vector<CertSpec>& certs) {
  if (certs.empty()) return absl::InvalidArgumentError("no certificate");
  std::shared_ptr<ServerTlsContext> out(new ServerTlsContext());
  for (const CertSpec& spec : certs) {
    auto e = std::make_unique<Entry>();
    e->server_name = spec.server_name;
    for (char& ch : e->server_name) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
    e->ctx = NewCtx(true);
    std::string cert_name;
    auto fail = [&](const absl::Status& s) {
      return spec.label.empty() ? s : absl::InvalidArgumentError(absl::StrCat(spec.label, ": ", s.message()));
    };
    if (absl::Status s = UseCertificate(e->ctx, spec, &cert_name); !s.ok()) return fail(s);
    X509* leaf = SSL_CTX_get0_certificate(e->ctx);
    if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
      return fail(absl::InvalidArgumentError(
          absl::StrCat("certificate ", cert_name, " expired on ", AsnTime(X509_get0_notAfter(leaf)))));
    if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0)
      return fail(absl::InvalidArgumentError(
          absl::StrCat("certificate ", cert_name, " is not valid before ", AsnTime(X509_get0_notBefore(leaf)))));
    SSL_CTX_set_alpn_select_cb(e->ctx, SelectAlpn, nullptr);
    UseTicketKeys(e->ctx);  // one key ring for every context: tickets survive config pushes
    char subject[256] = "";
    X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof(subject));
    e->description = absl::StrCat(spec.server_name.empty() ? "default" : spec.server_name, " (", subject, ", until ",
                                  AsnTime(X509_get0_notAfter(leaf)), ")");
    out->entries_.push_back(std::move(e));
  }
  // The default context picks per-name contexts from the ClientHello's SNI.
  SSL_CTX_set_tlsext_servername_callback(
      out->entries_[0]->ctx, [](SSL* ssl, int* alert, void* arg) { return SelectCertificate(ssl, alert, arg); });
  SSL_CTX_set_tlsext_servername_arg(out->entries_[0]->ctx, out.get());
  return out;
}

int ServerTlsContext::SelectCertificate(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerTlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(tolower(static_cast<unsigned char>(ch)));
  const Entry* best = nullptr;
  size_t best_suffix = 0;
  for (size_t i = 1; i < self->entries_.size(); ++i) {
    const std::string& n = self->entries_[i]->server_name;
    if (n == lower) {
      best = self->entries_[i].get();
      break;
    }
    // "*.example.com" matches "a.example.com" and "a.b.example.com", never "example.com".
    if (n.size() > 2 && n[0] == '*' && n.size() - 1 > best_suffix && lower.size() > n.size() - 1 &&
        lower.compare(lower.size() - (n.size() - 1), n.size() - 1, n, 1) == 0) {
      best = self->entries_[i].get();
      best_suffix = n.size() - 1;
    }
  }
  if (best != nullptr) SSL_set_SSL_CTX(ssl, best->ctx);
  return SSL_TLSEXT_ERR_OK;
}

ServerTlsContext::~ServerTlsContext() = default;

SSL* ServerTlsContext::NewSsl() const { return SSL_new(entries_[0]->ctx); }

std::string ServerTlsContext::Describe() const {
  std::string out;
  for (const auto& e : entries_) absl::StrAppend(&out, out.empty() ? "" : "; ", e->description);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Client

absl::StatusOr<std::shared_ptr<ClientTlsContext>> ClientTlsContext::Create(const std::string& ca_file,
                                                                           bool insecure_skip_verify) {
  std::shared_ptr<ClientTlsContext> out(new ClientTlsContext());
  out->ctx_ = NewCtx(false);
  out->insecure_ = insecure_skip_verify;
  static const uint8_t kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(out->ctx_, kHttp11, sizeof(kHttp11));
  if (insecure_skip_verify) {
    SSL_CTX_set_verify(out->ctx_, SSL_VERIFY_NONE, nullptr);
    return out;
  }
  ERR_clear_error();
  const char* file = ca_file.empty() ? kSystemCaBundle : ca_file.c_str();
  if (SSL_CTX_load_verify_locations(out->ctx_, file, nullptr) != 1)
    return absl::InvalidArgumentError(absl::StrCat("CA bundle ", file, ": ", LastSslError()));
  SSL_CTX_set_verify(out->ctx_, SSL_VERIFY_PEER, nullptr);
  return out;
}

ClientTlsContext::~ClientTlsContext() {
  SSL_SESSION_free(session_);
  SSL_CTX_free(ctx_);
}

void ClientTlsContext::EnableResumption() {
  SSL_CTX_set_app_data(ctx_, this);
  SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx_, RememberSession);
}

int ClientTlsContext::RememberSession(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<ClientTlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  std::lock_guard<std::mutex> lock(self->mu_);
  SSL_SESSION_free(self->session_);
  self->session_ = session;
  return 1;  // we keep the reference
}

SSL* ClientTlsContext::NewSsl(const std::string& host) const {
  SSL* ssl = SSL_new(ctx_);
  SSL_set_tlsext_host_name(ssl, host.c_str());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (session_ != nullptr) SSL_set_session(ssl, session_);
  }
  if (!insecure_) {
    // An IP literal is checked against IP SANs, a name against DNS SANs.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) SSL_set1_host(ssl, host.c_str());
  }
  return ssl;
}

// ---------------------------------------------------------------------------------------------
// Session

TlsSession::TlsSession(SSL* ssl, bool server) : ssl_(ssl) {
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);  // empty means "want more", not EOF
  SSL_set_bio(ssl_, rbio, wbio);
  if (server) SSL_set_accept_state(ssl_);
  else SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::Feed(const uint8_t* data, size_t n) { BIO_write(SSL_get_rbio(ssl_), data, static_cast<int>(n)); }

void TlsSession::SetError(int ret) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_SSL) {
    long verify = SSL_get_verify_result(ssl_);
    error_ = verify != X509_V_OK ? absl::StrCat("certificate verify failed: ", X509_verify_cert_error_string(verify))
                                 : LastSslError();
  } else {
    error_ = absl::StrCat("TLS error ", err);
  }
  ERR_clear_error();
}

TlsSession::Result TlsSession::Read(uint8_t* out, size_t cap, size_t* n) {
  if (failed()) return kError;
  int ret = SSL_read(ssl_, out, static_cast<int>(cap));
  if (ret > 0) {
    *n = static_cast<size_t>(ret);
    return kData;
  }
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return kWantMore;
  if (err == SSL_ERROR_ZERO_RETURN) return kClosed;
  SetError(ret);
  return kError;
}

bool TlsSession::Write(const uint8_t* data, size_t n) {
  if (failed()) return false;
  size_t done = 0;
  while (done < n) {
    int ret = SSL_write(ssl_, data + done, static_cast<int>(n - done));
    if (ret > 0) {
      done += static_cast<size_t>(ret);
      continue;
    }
    int err = SSL_get_error(ssl_, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return false;  // handshake in progress
    SetError(ret);
    return false;
  }
  return true;
}

bool TlsSession::TakeOutput(std::string* out) {
  BIO* wbio = SSL_get_wbio(ssl_);
  size_t pending = BIO_pending(wbio);
  if (pending == 0) return false;
  size_t old = out->size();
  out->resize(old + pending);
  int got = BIO_read(wbio, out->data() + old, static_cast<int>(pending));
  out->resize(old + static_cast<size_t>(got > 0 ? got : 0));
  return got > 0;
}

size_t TlsSession::ReadOutput(uint8_t* out, size_t cap) {
  int got = BIO_read(SSL_get_wbio(ssl_), out, static_cast<int>(cap));
  return got > 0 ? static_cast<size_t>(got) : 0;
}

void TlsSession::Connect() {
  int ret = SSL_do_handshake(ssl_);
  if (ret != 1) {
    int err = SSL_get_error(ssl_, ret);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) SetError(ret);
  }
}

bool TlsSession::handshake_done() const { return SSL_is_init_finished(ssl_) == 1; }

bool TlsSession::resumed() const { return SSL_session_reused(ssl_) == 1; }

std::string TlsSession::Describe() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return absl::StrCat(SSL_get_version(ssl_), " ", c ? SSL_CIPHER_standard_name(c) : "none",
                      SSL_session_reused(ssl_) ? " (resumed)" : "");
}

// ---------------------------------------------------------------------------------------------
// Self-signed certificates

absl::Status WriteSelfSignedCertificate(const std::string& cert_file, const std::string& key_file,
                                        const std::vector<std::string>& hosts, long not_before_s, long not_after_s) {
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  BN_set_word(e.get(), RSA_F4);
  if (!RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr)) return absl::InternalError("RSA key generation failed");
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  EVP_PKEY_assign_RSA(key.get(), rsa.release());
  bssl::UniquePtr<X509> cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  uint8_t serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7F;
  bssl::UniquePtr<BIGNUM> serial_bn(BN_bin2bn(serial, sizeof(serial), nullptr));
  BN_to_ASN1_INTEGER(serial_bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_s);
  X509_NAME* name = X509_get_subject_name(cert.get());
  std::string cn = hosts.empty() ? "localhost" : hosts[0];
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const uint8_t*>("wsgate development"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const uint8_t*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  std::string san;
  for (const auto& h : hosts) {
    bool ip = h.find_first_not_of("0123456789.") == std::string::npos || h.find(':') != std::string::npos;
    absl::StrAppend(&san, san.empty() ? "" : ",", ip ? "IP:" : "DNS:", h);
  }
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, san}, std::pair{NID_basic_constraints, std::string("critical,CA:TRUE")},
                            std::pair{NID_key_usage, std::string("critical,digitalSignature,keyEncipherment,keyCertSign")}}) {
    if (value.empty()) continue;
    bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &v3, nid, value.c_str()));
    if (!ext || !X509_add_ext(cert.get(), ext.get(), -1)) return absl::InternalError("certificate extension failed");
  }
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return absl::InternalError("certificate signing failed");

  FILE* cf = fopen(cert_file.c_str(), "w");
  if (cf == nullptr) return absl::PermissionDeniedError(absl::StrCat("cannot write ", cert_file, ": ", strerror(errno)));
  bool ok = PEM_write_X509(cf, cert.get()) == 1;
  fclose(cf);
  int kfd = open(key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (kfd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot write ", key_file, ": ", strerror(errno)));
  FILE* kf = fdopen(kfd, "w");
  ok = ok && PEM_write_PrivateKey(kf, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1;
  fclose(kf);
  if (!ok) return absl::InternalError("writing the PEM files failed");
  return absl::OkStatus();
}

}  // namespace wsgate::engine::tls

// File: agent/certificate.cc — InspectCertificate (see certificate.h), on OpenSSL 3.
#include "agent/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace wsgate::agent {
namespace {

struct Free {
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(X509* x) const { X509_free(x); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
template <typename T>
using Ptr = std::unique_ptr<T, Free>;

std::string NameText(const X509_NAME* name) {
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

int64_t UnixTime(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

absl::Status Bad(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::StatusOr<v1::CertificateInfo> InspectCertificate(const std::string& cert_pem, const std::string& key_pem,
                                                       const std::string& vhost, int64_t now_unix_s) {
  std::vector<Ptr<X509>> chain;
  {
    Ptr<BIO> bio(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) chain.emplace_back(x);
    ERR_clear_error();  // the end of the input reads as an error
  }
  if (chain.empty()) return Bad("cert", "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
  if (absl::StrContains(key_pem, "BEGIN CERTIFICATE") && !absl::StrContains(key_pem, "PRIVATE KEY"))
    return Bad("key", "holds a certificate, not a private key (swap --cert and --key?)");
  Ptr<EVP_PKEY> key;
  {
    Ptr<BIO> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
  }
  if (!key) return Bad("key", "no unencrypted PEM private key found (expected -----BEGIN PRIVATE KEY-----)");
  X509* leaf = chain[0].get();
  for (size_t i = 0; i + 1 < chain.size(); ++i)
    if (X509_check_issued(chain[i + 1].get(), chain[i].get()) != X509_V_OK)
      return Bad("cert", absl::StrCat("certificate ", i + 2, " (", NameText(X509_get_subject_name(chain[i + 1].get())),
                                      ") did not issue certificate ", i + 1, " (",
                                      NameText(X509_get_subject_name(chain[i].get())),
                                      "): put the leaf first, then each issuer in order"));
  if (X509_check_private_key(leaf, key.get()) != 1) {
    ERR_clear_error();
    return Bad("key", "does not match the certificate's public key (the first certificate of --cert)");
  }
  v1::CertificateInfo info;
  info.set_subject(NameText(X509_get_subject_name(leaf)));
  info.set_issuer(NameText(X509_get_issuer_name(leaf)));
  int64_t not_before = UnixTime(X509_get0_notBefore(leaf));
  int64_t not_after = UnixTime(X509_get0_notAfter(leaf));
  info.set_not_after_unix_s(not_after);
  if (now_unix_s < not_before) return Bad("cert", absl::StrCat("is not valid yet (from unix time ", not_before, ")"));
  if (now_unix_s >= not_after) return Bad("cert", absl::StrCat("expired (not after unix time ", not_after, ")"));
  int64_t days_left = (not_after - now_unix_s) / 86400;
  if (days_left < 30) info.add_warnings(absl::StrCat("the certificate expires in ", days_left, " day(s)"));

  Ptr<GENERAL_NAMES> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(sans.get(), i);
    if (n->type != GEN_DNS) continue;
    const ASN1_IA5STRING* s = n->d.dNSName;
    info.add_sans(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s)));
  }
  std::string name = absl::AsciiStrToLower(vhost);
  bool matches = false;
  if (absl::StartsWith(name, "*.")) {
    // A wildcard vhost serves any name under it: only the same wildcard covers them all.
    for (const auto& san : info.sans()) matches = matches || absl::AsciiStrToLower(san) == name;
    if (info.sans().empty()) {
      int idx = X509_NAME_get_index_by_NID(X509_get_subject_name(leaf), NID_commonName, -1);
      if (idx >= 0) {
        const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(X509_get_subject_name(leaf), idx));
        std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), ASN1_STRING_length(cn));
        matches = absl::AsciiStrToLower(text) == name;
      }
    }
  } else {
    // OpenSSL's hostname rules: DNS SANs when present, else the CN; wildcards in the certificate.
    matches = X509_check_host(leaf, name.data(), name.size(), 0, nullptr) == 1;
  }
  if (!matches)
    return Bad("cert", absl::StrCat("does not cover vhost '", vhost, "' (subject ", info.subject(), ", SANs: ",
                                    info.sans().empty() ? "none" : absl::StrJoin(info.sans(), ", "), ")"));
  return info;
}

}  // namespace wsgate::agent

// File: engine/auth/jwt.cc
#include "engine/auth/jwt.h"

#include <algorithm>
#include <cstring>

#include "engine/common/absl_compat.h"

namespace wsgate::engine::auth {
namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr int kMaxJsonDepth = 16;

// A small strict JSON reader: enough for JWT headers and claims. Unknown members of any type are
// skipped; nesting is bounded.
class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // Calls on_member(key) for each member of the top-level object; the callback must consume the
  // value with one of the Read*/Skip methods. Returns false on any syntax error.
  template <typename Fn>
  bool ReadObject(Fn on_member) {
    SkipWs();
    if (!Eat('{')) return false;
    SkipWs();
    if (Eat('}')) return AtEnd();
    while (true) {
      std::string key;
      SkipWs();
      if (!ReadString(&key)) return false;
      SkipWs();
      if (!Eat(':')) return false;
      SkipWs();
      if (!on_member(key)) return false;
      SkipWs();
      if (Eat(',')) continue;
      if (Eat('}')) return AtEnd();
      return false;
    }
  }

  bool Peek(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  bool ReadString(std::string* out) {
    if (!Eat('"')) return false;
    out->clear();
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return false;
      char e = s_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ReadHex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            uint32_t low;
            if (!Eat('\\') || !Eat('u') || !ReadHex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  // Integers (a fraction or exponent is accepted and truncated, as NumericDate allows).
  bool ReadNumber(int64_t* out) {
    size_t start = pos_;
    bool neg = Eat('-');
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return false;
    int64_t v = 0;
    bool overflow = false;
    while (pos_ < s_.size() && IsDigit(s_[pos_])) {
      if (v > (INT64_MAX - 9) / 10) overflow = true;
      else v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (Eat('.')) {
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) return false;
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) return false;  // not for dates
    if (overflow || pos_ == start) return false;
    *out = neg ? -v : v;
    return true;
  }

  bool ReadStringArray(std::vector<std::string>* out) {
    if (!Eat('[')) return false;
    SkipWs();
    if (Eat(']')) return true;
    while (true) {
      SkipWs();
      std::string item;
      if (!ReadString(&item)) return false;
      out->push_back(std::move(item));
      SkipWs();
      if (Eat(',')) continue;
      return Eat(']');
    }
  }

  bool Skip(int depth = 0) {
    if (depth > kMaxJsonDepth) return false;
    SkipWs();
    if (pos_ >= s_.size()) return false;
    char c = s_[pos_];
    if (c == '"') {
      std::string ignored;
      return ReadString(&ignored);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++pos_;
      SkipWs();
      if (Eat(close)) return true;
      while (true) {
        SkipWs();
        if (c == '{') {
          std::string key;
          if (!ReadString(&key)) return false;
          SkipWs();
          if (!Eat(':')) return false;
        }
        if (!Skip(depth + 1)) return false;
        SkipWs();
        if (Eat(',')) continue;
        return Eat(close);
      }
    }
    if (c == '-' || IsDigit(c)) {
      ++pos_;
      while (pos_ < s_.size() && (IsDigit(s_[pos_]) || std::strchr(".eE+-", s_[pos_]) != nullptr)) ++pos_;
      return true;
    }
    for (std::string_view lit : {"true", "false", "null"}) {
      if (s_.substr(pos_, lit.size()) == lit) {
        pos_ += lit.size();
        return true;
      }
    }
    return false;
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  void SkipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipWs();
    return pos_ == s_.size();
  }
  bool ReadHex4(uint32_t* out) {
    if (pos_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    *out = v;
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void SplitScopes(std::string_view text, std::vector<std::string>* out) {
  while (!text.empty()) {
    size_t sp = text.find(' ');
    std::string_view s = text.substr(0, sp);
    if (!s.empty()) out->emplace_back(s);
    if (sp == std::string_view::npos) break;
    text.remove_prefix(sp + 1);
  }
}

}  // namespace

bool ParseJwtHeader(std::string_view json, JwtClaims* out) {
  JsonReader r(json);
  return r.ReadObject([&](const std::string& key) {
    if (key == "alg") return r.ReadString(&out->alg);
    if (key == "kid") return r.ReadString(&out->kid);
    return r.Skip();
  });
}

bool ParseJwtPayload(std::string_view json, JwtClaims* out) {
  JsonReader r(json);
  return r.ReadObject([&](const std::string& key) {
    if (key == "iss") return r.ReadString(&out->iss);
    if (key == "sub") return r.ReadString(&out->sub);
    if (key == "jti") return r.ReadString(&out->jti);
    if (key == "client_id" || key == "azp") return r.ReadString(&out->client_id);
    if (key == "key_type" || key == "keytype") return r.ReadString(&out->key_type);
    if (key == "exp") return out->has_exp = r.ReadNumber(&out->exp);
    if (key == "nbf") return out->has_nbf = r.ReadNumber(&out->nbf);
    if (key == "iat") return r.ReadNumber(&out->iat);
    if (key == "aud") {
      if (r.Peek('[')) return r.ReadStringArray(&out->aud);
      out->aud.emplace_back();
      return r.ReadString(&out->aud.back());
    }
    if (key == "scope") {  // a string (RFC 8693 §4.2); some providers send an array
      if (r.Peek('[')) return r.ReadStringArray(&out->scopes);
      std::string s;
      if (!r.ReadString(&s)) return false;
      SplitScopes(s, &out->scopes);
      return true;
    }
    if (key == "scp") {
      if (r.Peek('[')) return r.ReadStringArray(&out->scopes);
      std::string s;
      if (!r.ReadString(&s)) return false;
      SplitScopes(s, &out->scopes);
      return true;
    }
    return r.Skip();
  });
}

std::string_view Describe(JwtError error) {
  switch (error) {
    case JwtError::kNone: return "ok";
    case JwtError::kMalformed: return "Invalid JWT token";
    case JwtError::kUnknownKey: return "token signed with an unknown key";
    case JwtError::kAlgMismatch: return "token algorithm does not match its key";
    case JwtError::kBadSignature: return "token signature verification failed";
    case JwtError::kExpired: return "token expired";
    case JwtError::kNotYetValid: return "token not yet valid";
    case JwtError::kMissingExp: return "token has no expiry";
    case JwtError::kWrongIssuer: return "token issuer not accepted";
    case JwtError::kWrongAudience: return "token audience not accepted";
  }
  return "invalid token";
}

bool ReadIdpClaims(std::string_view payload_json, const config::IdentityProvider& idp, JwtClaims* out) {
  std::string named, fallback;
  bool has_named = false;
  std::vector<std::string> scopes;
  JsonReader r(payload_json);
  bool ok = r.ReadObject([&](const std::string& key) {
    if (key == idp.client_id_claim) return has_named = r.ReadString(&named);
    if (key == "client_id") return r.ReadString(&fallback);
    if (key == idp.scope_claim) {
      if (r.Peek('[')) return r.ReadStringArray(&scopes);
      std::string text;
      if (!r.ReadString(&text)) return false;
      SplitScopes(text, &scopes);
      return true;
    }
    return r.Skip();
  });
  if (!ok) return false;
  out->client_id = has_named ? std::move(named) : std::move(fallback);
  out->scopes = std::move(scopes);
  return true;
}

bool LooksLikeJwt(std::string_view token) { return std::count(token.begin(), token.end(), '.') == 2; }

VerifiedJwt VerifyJwt(std::string_view token, const config::Snapshot& snapshot, int64_t now_unix_s) {
  VerifiedJwt out;
  auto fail = [&out](JwtError e) {
    out.error = e;
    return out;
  };
  if (token.size() > kMaxTokenBytes || !LooksLikeJwt(token)) return fail(JwtError::kMalformed);
  size_t d1 = token.find('.'), d2 = token.find('.', d1 + 1);
  std::string_view header64 = token.substr(0, d1), payload64 = token.substr(d1 + 1, d2 - d1 - 1),
                   sig64 = token.substr(d2 + 1);
  std::string header, payload, signature;
  if (!Base64UrlDecode(header64, &header) || !Base64UrlDecode(payload64, &payload) ||
      !Base64UrlDecode(sig64, &signature) || !ParseJwtHeader(header, &out.claims) ||
      !ParseJwtPayload(payload, &out.claims))
    return fail(JwtError::kMalformed);

  auto idp_it = snapshot.identity_providers.find(common::Sv(out.claims.iss));
  const config::IdentityProvider* idp = idp_it == snapshot.identity_providers.end() ? nullptr : &idp_it->second;
  // A provider's token is checked with that provider's keys only; any other with the agent's.
  const config::SigningKey* signing_key = nullptr;
  if (idp != nullptr) {
    auto key_it = idp->signing_keys.find(common::Sv(out.claims.kid));
    if (key_it != idp->signing_keys.end()) signing_key = &key_it->second;
  } else {
    signing_key = snapshot.signing_keys.Find(out.claims.kid);
  }
  if (signing_key == nullptr) return fail(JwtError::kUnknownKey);
  const tls::PublicKey& key = *signing_key->key;
  if (out.claims.alg != tls::JwsName(key.algorithm())) return fail(JwtError::kAlgMismatch);
  if (!key.Verify(token.substr(0, d2), signature)) return fail(JwtError::kBadSignature);

  const config::TokenValidation& rules = snapshot.token_validation;
  int64_t skew = rules.clock_skew_s;
  if (!out.claims.has_exp) return fail(JwtError::kMissingExp);
  if (now_unix_s >= out.claims.exp + skew) return fail(JwtError::kExpired);
  if (out.claims.has_nbf && now_unix_s + skew < out.claims.nbf) return fail(JwtError::kNotYetValid);
  if (idp == nullptr && !rules.issuer.empty() && out.claims.iss != rules.issuer) return fail(JwtError::kWrongIssuer);
  const std::vector<std::string>& audiences = idp != nullptr ? idp->audiences : rules.audiences;
  if (!audiences.empty()) {
    bool ok = std::any_of(out.claims.aud.begin(), out.claims.aud.end(), [&](const std::string& a) {
      return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
    });
    if (!ok) return fail(JwtError::kWrongAudience);
  }
  if (idp != nullptr) {
    if (!ReadIdpClaims(payload, *idp, &out.claims)) return fail(JwtError::kMalformed);
    out.claims.idp = idp->issuer;
  }
  return out;
}

}  // namespace wsgate::engine::auth

// SPDX-License-Identifier: MIT
// client_address.cc - --client-address: an IPv4 or IPv6 address or CIDR
// block, compared with the client address Postfix recorded for the
// message (client_address, or log_client_address when a proxy was in the
// way); see match.h. A bad address or prefix length throws
// std::invalid_argument, which the configuration reports as a usage error.
#include <arpa/inet.h>

#include <charconv>
#include <memory>
#include <stdexcept>
#include <string>

#include "qpurge/select/match.h"

namespace qpurge {
namespace {

class ClientAddressCriterion : public Criterion {
 public:
  explicit ClientAddressCriterion(std::string_view spec) {
    std::string text(spec);
    std::string_view prefix;
    bool has_prefix = false;
    if (std::size_t slash = text.find('/'); slash != std::string::npos) {
      prefix = spec.substr(slash + 1);
      has_prefix = true;
      text.resize(slash);
    }
    if (text.size() > 1 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (::inet_pton(AF_INET, text.c_str(), addr_) == 1) {
      len_ = 4;
    } else if (::inet_pton(AF_INET6, text.c_str(), addr_) == 1) {
      len_ = 16;
    } else {
      throw std::invalid_argument(
          "not an IP address or CIDR block: expected an IPv4 or IPv6 address (192.0.2.7, 2001:db8::7), "
          "optionally with /BITS (198.51.100.0/24)");
    }
    const int max = static_cast<int>(len_ * 8);
    bits_ = max;
    if (!has_prefix) return;
    // Digits only: from_chars would take a '-', and "-1" must not mean "all".
    bool digits = !prefix.empty() && prefix.size() <= 3;
    for (char c : prefix) digits &= c >= '0' && c <= '9';
    int bits = -1;
    if (digits) std::from_chars(prefix.data(), prefix.data() + prefix.size(), bits);
    if (!digits || bits > max)
      throw std::invalid_argument("bad prefix length: expected a number from 0 to " + std::to_string(max));
    bits_ = bits;
  }
  Side side() const override { return Side::kMessage; }
  Truth test_message(const Subject& s) const override {
    for (const char* name : {"client_address", "log_client_address"}) {
      const Attribute* a = s.msg.attribute(name);
      if (a && matches(s.msg.str(a->value))) return Truth::kYes;
    }
    return Truth::kNo;
  }

 private:
  bool matches(std::string_view value) const {
    std::string v(value);
    if (v.compare(0, 5, "IPv6:") == 0) v = v.substr(5);  // log_client_address form
    unsigned char a[16];
    std::size_t len;
    if (::inet_pton(AF_INET, v.c_str(), a) == 1)
      len = 4;
    else if (::inet_pton(AF_INET6, v.c_str(), a) == 1)
      len = 16;
    else
      return false;
    if (len != len_) return false;
    int bits = bits_;
    for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
      unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      if ((a[i] & mask) != (addr_[i] & mask)) return false;
    }
    return true;
  }
  unsigned char addr_[16] = {0};
  std::size_t len_ = 0;
  int bits_ = 0;
};

}  // namespace

std::unique_ptr<Criterion> make_client_address(std::string_view a) {
  return std::make_unique<ClientAddressCriterion>(a);
}

}  // namespace qpurge

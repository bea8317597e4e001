#include "PacsTypes.h"

#include <cctype>
#include <cstdlib>

namespace lightbox::net {

std::string PacsNode::toString() const
{
    const bool v6 = host.find(':') != std::string::npos;
    return aeTitle + "@" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string validateAeTitle(const std::string& aeTitle)
{
    if (aeTitle.empty())
        return "the AE title is empty";
    if (aeTitle.size() > 16)
        return "the AE title is longer than 16 characters";
    for (unsigned char c : aeTitle)
        if (c < 0x20 || c == 0x7f || c == '\\')
            return "the AE title holds a backslash or a control character";
    if (aeTitle.find_first_not_of(' ') == std::string::npos)
        return "the AE title is only spaces";
    return {};
}

Result<PacsNode> parseNode(const std::string& text)
{
    auto fail = [&](const std::string& why) {
        return Result<PacsNode>::failure("'" + text.substr(0, 80) + "' is not AET@HOST:PORT: " + why);
    };
    const auto at = text.rfind('@');
    if (at == std::string::npos)
        return fail("no '@'");
    PacsNode node;
    node.aeTitle = text.substr(0, at);
    if (const std::string why = validateAeTitle(node.aeTitle); !why.empty())
        return fail(why);
    std::string rest = text.substr(at + 1);
    std::string portText;
    if (!rest.empty() && rest[0] == '[') {
        const auto close = rest.find(']');
        if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            return fail("an IPv6 host is written [ADDRESS]:PORT");
        node.host = rest.substr(1, close - 1);
        portText = rest.substr(close + 2);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string::npos)
            return fail("no ':PORT'");
        node.host = rest.substr(0, colon);
        portText = rest.substr(colon + 1);
    }
    if (node.host.empty())
        return fail("the host is empty");
    for (unsigned char c : node.host)
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\' || c == '@')
            return fail("the host holds a character a host name cannot have");
    if (portText.empty() || portText.size() > 5 || portText.find_first_not_of("0123456789") != std::string::npos)
        return fail("the port is not a number");
    node.port = std::atoi(portText.c_str());
    if (node.port < 1 || node.port > 65535)
        return fail("the port is not in 1..65535");
    return node;
}

bool isSafeUid(const std::string& uid)
{
    if (uid.empty() || uid.size() > 64 || uid.front() == '.' || uid.back() == '.')
        return false;
    if (uid.find("..") != std::string::npos)
        return false;
    return uid.find_first_not_of("0123456789.") == std::string::npos;
}

} // namespace lightbox::net

package dev.meshc.validate;

import dev.meshc.diag.Code;
import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;
import dev.meshc.model.Names;
import dev.meshc.model.Service;
import dev.meshc.model.Spans;

/**
 * N300: every name is a DNS label. Names end up in nftables chain names, iptables comments,
 * systemd unit file names, file paths and host names, so this rule is also what keeps a name from
 * injecting into any of them.
 */
final class NameRule implements Rule {

    @Override
    public void check(Inventory inv, Diagnostics diags) {
        inv.vms().values().forEach(v -> name("VM", v.name(), v.spans(), diags));
        for (Service s : inv.services().values()) {
            name("service", s.name(), s.spans(), diags);
            s.endpoints().values().forEach(e -> name("endpoint", e.name(), e.spans(), diags));
            s.relationships().values().forEach(r -> name("relationship", r.name(), r.spans(), diags));
        }
        inv.containers().values().forEach(c -> name("container", c.name(), c.spans(), diags));
    }

    private static void name(String kind, String name, Spans spans, Diagnostics diags) {
        if (!Names.isDnsLabel(name)) {
            diags.error(Code.N300, spans.key(), kind + " name " + quote(name)
                    + " is not a DNS label (lowercase a-z, 0-9 and '-', 1-63 characters, no '-' at either end)");
        }
    }

    /** Quotes a user string for a message, escaping anything unprintable so it cannot break the output. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("'");
        s.codePoints().limit(80).forEach(cp -> {
            if (cp >= 0x20 && cp < 0x7f && cp != '\'' && cp != '\\') sb.appendCodePoint(cp);
            else sb.append(String.format(java.util.Locale.ROOT, cp <= 0xffff ? "\\u%04X" : "\\U%08X", cp));
        });
        if (s.codePointCount(0, s.length()) > 80) sb.append("...");
        return sb.append('\'').toString();
    }
}

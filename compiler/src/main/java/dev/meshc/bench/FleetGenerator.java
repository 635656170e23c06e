package dev.meshc.bench;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;

/**
 * Deterministic synthetic fleets for benchmarks: VMs on a 10.0.0.0/16 underlay, a 240.0.0.0/4
 * overlay (12 container bits), services with one TCP endpoint, ten containers each spread over the
 * VMs, and two relationships per service — so each container binds two relationships and each
 * relationship balances over ten backends.
 */
public final class FleetGenerator {

    /** A fleet size: S, M, L and XL of the performance issue. */
    public enum Size {
        S(10, 200), M(200, 10_000), L(1_000, 50_000), XL(2_000, 100_000);

        final int vms;
        final int containers;

        Size(int vms, int containers) {
            this.vms = vms;
            this.containers = containers;
        }

        public int vms() {
            return vms;
        }

        public int containers() {
            return containers;
        }

        public int services() {
            return Math.max(1, containers / 10);
        }
    }

    private FleetGenerator() {
    }

    public static void write(Size size, Writer w) throws IOException {
        write(size.toString(), size.vms, size.containers, w);
    }

    /** The same shape at another size (tests: a fleet with more VMs than verify tries every subnet from, yet small). */
    public static void write(String name, int vms, int containers, Writer w) throws IOException {
        int services = Math.max(1, containers / 10);
        w.write("# yaml-language-server: $schema=../schemas/inventory.schema.json\n");
        w.write(String.format(Locale.ROOT, "# Synthetic fleet %s: %d VMs, %d services, %d containers, %d relationship bindings.%n",
                name, vms, services, containers, containers * 2));
        w.write("version: 1\nnetwork:\n  underlay: 10.0.0.0/16\n  overlay: 240.0.0.0/4\n  encapsulation: vxlan\n");
        w.write("vms:\n");
        for (int v = 0; v < vms; v++) {
            int host = v + 1;
            w.write(String.format(Locale.ROOT, "  vm-%05d: {underlay: 10.0.%d.%d}%n", v, host >> 8, host & 255));
        }
        w.write("services:\n");
        for (int s = 0; s < services; s++) {
            w.write(String.format(Locale.ROOT, "  svc-%05d:%n    endpoints:%n      api: {port: %d}%n", s, 1024 + s % 60000));
            if (services > 1) {
                int a = (s + 1) % services, b = (s + 7) % services;
                if (b == s || b == a) b = (s + 2) % services;
                w.write("    relationships:\n");
                w.write(String.format(Locale.ROOT, "      up: svc-%05d:api%n", a));
                if (b != s && b != a) w.write(String.format(Locale.ROOT, "      down: svc-%05d:api%n", b));
            }
        }
        w.write("containers:\n");
        for (int c = 0; c < containers; c++) {
            int s = c / 10, vm = (int) ((c * 7919L) % vms);
            w.write(String.format(Locale.ROOT, "  c-%06d: {service: svc-%05d, vm: vm-%05d}%n", c, s, vm));
        }
    }
}

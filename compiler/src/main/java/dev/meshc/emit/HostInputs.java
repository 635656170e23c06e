package dev.meshc.emit;

import dev.meshc.plan.Binding;
import dev.meshc.plan.ContainerPlan;
import dev.meshc.plan.HostPlan;
import dev.meshc.plan.Plan;
import dev.meshc.plan.Target;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Digests of everything each host's files are rendered from, computed from the plan's inputs without
 * planning the hosts: cutting every host's {@link HostPlan} out of the plan took as long as a third of
 * rendering them at 1,000 VMs. Two compiles that give a host the same digest give it the same bytes,
 * so an incremental compile renders only hosts whose digest changed.
 * <p>
 * A host's files depend on: the network settings and every VM (each host lists every peer); its own
 * VM and containers; and the services in its <em>neighbourhood</em>: the services of its containers,
 * the services those consume (the VIP's backends), and the services that consume them (the allowlist).
 * Each service contributes its model record (endpoints, relationships), its placed containers, its
 * bindings and the targets it serves. The values are walked generically (records, lists, maps, strings,
 * numbers; source positions left out), so a field added to any of these records counts without a change
 * here. A renderer or a {@code HostPlan} field drawing on anything outside the neighbourhood must widen
 * it in {@link #neighbourhood}; the randomized {@code IncrementalCompileTest} compares every step with
 * a fresh full compile to catch one that did not.
 */
public final class HostInputs {
    private final Plan plan;
    private final byte[] global;
    private final Map<String, byte[]> services = new java.util.concurrent.ConcurrentHashMap<>();

    /** @param context what the renderers are (version, code), mixed into every digest */
    public HostInputs(Plan plan, String context) {
        this.plan = plan;
        Feed f = new Feed();
        f.value(context);
        f.value(plan.inventory().network());
        f.value(plan.vms()); // every VM's underlay, subnet and gateway, for the peer tables
        this.global = f.digest();
    }

    /** The digest of one host's inputs, hex. */
    public String of(String vm) {
        // Which containers are local is in their services' digests (every container with its VM and index). The
        // neighbourhood is a set: its digests are added lane by lane (an order-free set hash), and only that sum,
        // 32 bytes, is hashed per host: hashing each host's few hundred digests was most of the time at 1,000 VMs.
        long[] sum = new long[4];
        java.util.Set<String> near = neighbourhood(plan.containersByVm().getOrDefault(vm, List.of()));
        for (String s : near) {
            byte[] d = services.computeIfAbsent(s, this::service);
            for (int lane = 0; lane < 4; lane++) sum[lane] += (long) LONGS.get(d, lane * 8);
        }
        Feed f = new Feed();
        f.raw(global);
        f.value(vm);
        f.value((long) near.size());
        for (long l : sum) f.value(l);
        return HexFormat.of().formatHex(f.digest());
    }

    private static final java.lang.invoke.VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /** The services whose data can reach this host's files: those near each service of its containers. */
    private java.util.Set<String> neighbourhood(List<ContainerPlan> local) {
        java.util.Set<String> out = new java.util.HashSet<>(), services = new java.util.HashSet<>();
        for (ContainerPlan c : local) {
            if (services.add(c.service())) out.addAll(near.computeIfAbsent(c.service(), this::near));
        }
        return out;
    }

    /** Each service's neighbours, worked out once: a service's containers sit on several hosts. */
    private final Map<String, List<String>> near = new java.util.concurrent.ConcurrentHashMap<>();

    /** A service, the services it consumes (VIPs, chains, backends) and those consuming it (the allowlist). */
    private List<String> near(String s) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        out.add(s);
        for (Binding b : plan.bindingsOf(s).values()) out.add(b.service());
        for (Target t : plan.targetsByService().getOrDefault(s, List.of())) out.addAll(plan.consumersOfTarget().getOrDefault(t.key(), List.of()));
        return List.copyOf(out);
    }

    /** One service's part: its model record, its placed containers, its bindings and the targets it serves. */
    private byte[] service(String name) {
        Feed f = new Feed();
        f.value(plan.inventory().services().get(name));
        f.value(plan.containersOfService(name)); // in name order (the planner walks the sorted containers)
        f.value(plan.bindingsOf(name));
        f.value(plan.targetsByService().getOrDefault(name, List.of()));
        return f.digest();
    }

    /** A value's bytes, tagged by kind and length-prefixed so that no two values feed the same bytes. */
    static final class Feed {
        private final java.security.MessageDigest md = newDigest();
        private final byte[] buf = new byte[8192];
        private int n;

        private static java.security.MessageDigest newDigest() {
            try {
                return java.security.MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        String hex() {
            return HexFormat.of().formatHex(digest());
        }

        byte[] digest() {
            md.update(buf, 0, n);
            n = 0;
            return md.digest();
        }

        /** Bytes (a file's), tagged and length-prefixed; null as a value of its own. */
        void bytes(byte[] b) {
            if (b == null) {
                tag('0');
                return;
            }
            tag('b');
            i64(b.length);
            md.update(buf, 0, n);
            n = 0;
            md.update(b);
        }

        /** A digest of a part, as it is (fixed length: no tag needed). */
        void raw(byte[] b) {
            room(b.length);
            System.arraycopy(b, 0, buf, n, b.length);
            n += b.length;
        }

        private void room(int k) {
            if (n + k > buf.length) {
                md.update(buf, 0, n);
                n = 0;
            }
        }

        private void tag(char t) {
            room(1);
            buf[n++] = (byte) t;
        }

        private void i64(long v) {
            room(8);
            for (int s = 56; s >= 0; s -= 8) buf[n++] = (byte) (v >>> s);
        }

        private void chars(String s) {
            int len = s.length();
            i64(len);
            if (2 * len > buf.length) {
                md.update(buf, 0, n);
                n = 0;
                md.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_16BE));
                return;
            }
            room(2 * len);
            for (int i = 0; i < len; i++) {
                char c = s.charAt(i);
                buf[n++] = (byte) (c >>> 8);
                buf[n++] = (byte) c;
            }
        }

        void value(Object o) {
            if (o == null) {
                tag('0');
            } else if (o instanceof dev.meshc.model.Spans) {
                tag('p'); // source positions, for diagnostics: never part of an artifact, and they move with every edit above
            } else if (o instanceof String s) {
                tag('s');
                chars(s);
            } else if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) {
                tag('i');
                i64(((Number) o).longValue());
            } else if (o instanceof Boolean b) {
                tag(b ? 'T' : 'F');
            } else if (o instanceof Enum<?> e) {
                tag('e');
                chars(e.getDeclaringClass().getName());
                chars(e.name());
            } else if (o instanceof Record r) {
                tag('r');
                chars(r.getClass().getName());
                for (MethodHandle h : COMPONENTS.get(r.getClass())) value(get(h, r));
            } else if (o instanceof Collection<?> c) { // lists, and sets in their (sorted) iteration order
                tag('l');
                i64(c.size());
                if (c instanceof List<?> l && l instanceof java.util.RandomAccess) {
                    for (int i = 0; i < l.size(); i++) value(l.get(i));
                } else {
                    for (Object x : c) value(x);
                }
            } else if (o instanceof Map<?, ?> m) { // meshc's maps are sorted: iteration order is deterministic
                tag('m');
                i64(m.size());
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    value(e.getKey());
                    value(e.getValue());
                }
            } else {
                // Anything else by its class and text (Cidr and the like print their value). A toString that is not a
                // value (an identity hash) only makes the digest differ every time: the host is rendered, never skipped wrongly.
                tag('o');
                chars(o.getClass().getName());
                chars(o.toString());
            }
        }

        private static Object get(MethodHandle h, Record r) {
            try {
                return (Object) h.invokeExact((Object) r);
            } catch (Throwable t) {
                throw new IllegalStateException("reading a record component of " + r.getClass().getName(), t);
            }
        }
    }

    /** Each record class's component accessors, in declaration order. */
    private static final ClassValue<MethodHandle[]> COMPONENTS = new ClassValue<>() {
        @Override
        protected MethodHandle[] computeValue(Class<?> type) {
            RecordComponent[] rc = type.getRecordComponents();
            MethodHandle[] out = new MethodHandle[rc.length];
            for (int i = 0; i < rc.length; i++) {
                try {
                    java.lang.reflect.Method m = rc[i].getAccessor();
                    m.setAccessible(true);
                    out[i] = MethodHandles.lookup().unreflect(m).asType(java.lang.invoke.MethodType.methodType(Object.class, Object.class));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    throw new IllegalStateException("cannot read " + type.getName() + "." + rc[i].getName(), e);
                }
            }
            return out;
        }
    };
}

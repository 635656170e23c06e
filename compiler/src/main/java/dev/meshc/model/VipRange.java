package dev.meshc.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The usable VIP addresses {@code A} of docs/design.md ("Relationship VIPs"): the range minus its reservations, in ascending
 * order, indexed without materialising them (a /8 range would be 16 million entries).
 */
public final class VipRange {
    private final long[] starts;   // usable runs: [starts[i], starts[i] + lengths[i])
    private final long[] lengths;
    private final long size;

    public VipRange(Cidr range, List<Cidr> reserved) {
        Cidr aligned = range.aligned();
        long lo = Ipv4.unsigned(aligned.network()), hi = Ipv4.unsigned(aligned.last());
        List<long[]> cut = new ArrayList<>();
        for (Cidr r : reserved) {
            long a = Math.max(lo, Ipv4.unsigned(r.network())), b = Math.min(hi, Ipv4.unsigned(r.last()));
            if (a <= b) cut.add(new long[] {a, b});
        }
        cut.sort((x, y) -> Long.compare(x[0], y[0]));
        List<long[]> runs = new ArrayList<>();
        long next = lo;
        for (long[] c : cut) {
            if (c[0] > next) runs.add(new long[] {next, c[0] - next});
            next = Math.max(next, c[1] + 1);
        }
        if (next <= hi) runs.add(new long[] {next, hi - next + 1});
        starts = new long[runs.size()];
        lengths = new long[runs.size()];
        long total = 0;
        for (int i = 0; i < runs.size(); i++) {
            starts[i] = runs.get(i)[0];
            lengths[i] = runs.get(i)[1];
            total += lengths[i];
        }
        size = total;
    }

    public static VipRange of(Network network) {
        return new VipRange(network.vip(), network.vipReserved());
    }

    public long size() {
        return size;
    }

    /** {@code A[i]} for {@code 0 <= i < size()}. */
    public int get(long i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i);
        for (int r = 0; r < starts.length; r++) {
            if (i < lengths[r]) return (int) (starts[r] + i);
            i -= lengths[r];
        }
        throw new AssertionError();
    }

    public boolean isUsable(int address) {
        long a = Ipv4.unsigned(address);
        for (int r = 0; r < starts.length; r++) {
            if (a >= starts[r] && a < starts[r] + lengths[r]) return true;
        }
        return false;
    }
}

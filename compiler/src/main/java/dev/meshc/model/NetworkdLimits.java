package dev.meshc.model;

/**
 * Per-link limits of systemd-networkd's static tables (systemd 252, as on Debian 12; networkd
 * refuses the whole .network file with "Failed to parse file: Cannot allocate memory" beyond them —
 * measured here with a 2,000-VM fleet). A VM lists every peer, so fleets above these sizes keep
 * those tables in the ip/*.batch files only.
 */
public final class NetworkdLimits {
    /** [Neighbor] and [BridgeFDB] sections per .network file. */
    public static final int STATIC_NEIGHBORS = 1024;
    /** [Route] sections per .network file. */
    public static final int STATIC_ROUTES = 4096;

    private NetworkdLimits() {
    }

    public static boolean neighborsFit(int peers) {
        return peers <= STATIC_NEIGHBORS;
    }

    public static boolean routesFit(int peers) {
        return peers <= STATIC_ROUTES;
    }
}

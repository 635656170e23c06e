package dev.meshc.validate;

import dev.meshc.diag.Diagnostics;
import dev.meshc.model.Inventory;

/** One semantic check. Rules add diagnostics and never stop: every problem is reported in one run. */
interface Rule {
    void check(Inventory inventory, Diagnostics diags);
}

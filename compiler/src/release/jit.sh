# meshc's JIT choice, sourced by both launchers (./meshc in a clone, bin/meshc in a release) with the
# command's arguments: meshc_jit "$@" sets the array meshc_jit_opts.
#
# Tiered compilation spends the second of 2 cores on C2, which pays off only in long runs. A command that
# renders the whole fleet (compile, check, plan without --host) keeps C2: with C1 alone a full compile of
# 1,000 VMs is 45% slower. Every other command (validate, compile --host, vip, explain, graph, ...) ends
# before C2's code pays for itself and runs 15-25% faster with C1 alone. The inventory's size does not
# predict it (a 1 MB inventory of 1,000 VMs renders 30% slower with C1, a 0.6 MB one of 200 VMs 20%
# faster), so the choice is by command. Measured side by side by bench/run; docs/performance.md.
meshc_jit() {
  meshc_jit_opts=(-XX:TieredStopAtLevel=1)
  case "${1:-}" in
    compile|check|plan)
      local a
      for a in "$@"; do
        case "$a" in --host|--host=*) return ;; esac
      done
      meshc_jit_opts=() ;;
  esac
}

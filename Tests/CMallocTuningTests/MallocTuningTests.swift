import CMallocTuning
import Testing

/// The allocator settings `feedcorpus` makes at start take effect (a C header slip once turned
/// them into a silent no-op, and peak memory at 150,000 items rose past its bound).
@Suite struct MallocTuningTests {
    @Test(.enabled(if: isGlibc, "glibc's mallopt only"))
    func theSettingsAreAccepted() {
        #expect(fc_tune_malloc(2, 256 * 1024) == 1)
    }
}

#if os(Linux)
let isGlibc = true
#else
let isGlibc = false
#endif

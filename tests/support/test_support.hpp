#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace harmony::test {

/// A fresh temporary directory, removed when the object dies.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;  // -1 when killed by a signal
    int signal = 0;
    std::string out;
    std::string err;
};

/// Adds a sustained harmonic tone at MIDI pitch `midi` to x (grown as needed): `partials` partials
/// with 1/k amplitudes (1 = a sine, many = a sawtooth), 10 ms fades, no decay.
void add_sustained_note(std::vector<float>& x, int rate_hz, double t0_s, double dur_s, double midi, float amp,
                        int partials);

/// Runs argv (no shell) with a timeout; captures stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_s = 120);

/// True when an executable is on PATH.
bool have_program(const std::string& name);

/// The real recordings beside the repository (../shared/data), or $HARMONY_SHARED_DATA.
/// Tests that need them skip when the directory is absent.
std::string shared_data_dir();

void write_file(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

/// Plain base64 decoding, written for the tests (independent of the product's own): characters
/// outside the alphabet (newlines, padding) are skipped, so unpadded and wrapped text decode too.
std::string base64_decode(const std::string& in);

/// Big-endian unsigned 32-bit integer and IEEE float at byte `at` of s (as Serato's tags store them).
std::uint32_t be_u32(const std::string& s, size_t at);
float be_f32(const std::string& s, size_t at);

/// MIREX-style beat F-measure with a +-70 ms window (each reference matched at most once).
double f_measure(const std::vector<double>& ref, const std::vector<double>& est, double tol = 0.07);
/// The times at or after t.
std::vector<double> after(const std::vector<double>& v, double t);

}  // namespace harmony::test

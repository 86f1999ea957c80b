# Real ActiveSupport timing the Rails tokens `cargo bench --bench compare --features rails --
# rails/` times in Rust: the same value ({"sub":42}), purpose ("login"), expiry (15 min),
# secret (64 bytes of 1), SHA256 and the current envelope (and SHA1 with the legacy one). Prints
# Ruby's medians and, when the Rust run's results are in target/criterion, the ratios.
#
#   cargo bench --bench compare --features rails -- rails/
#   tests/rails/ruby 7.2 benches/rails_ruby.rb
#
# Given the names of saved runs (`-- --save-baseline run1` …; see benches/report.py), the Rust
# time is the median over them.
require "json"
require "active_support"
require "active_support/message_verifier"
require "active_support/core_ext/numeric/time"

SECRET = ([1] * 64).pack("C*")
VALUE = { "sub" => 42 }
ROUNDS = 7
PER_ROUND = 20_000

def median_ns
  times = Array.new(ROUNDS) do
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    PER_ROUND.times { yield }
    (Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - start) / PER_ROUND.to_f
  end
  times.sort[ROUNDS / 2]
end

RUNS = ARGV.empty? ? ["new"] : ARGV

def criterion(name)
  root = ENV.fetch("CARGO_TARGET_DIR", File.expand_path("../target", __dir__))
  times = RUNS.map do |run|
    path = File.join(root, "criterion", "rails", name, run, "estimates.json")
    File.exist?(path) ? JSON.parse(File.read(path)).dig("median", "point_estimate") : nil
  end
  return nil if times.include?(nil)
  times.sort[times.size / 2]
end

puts "ActiveSupport #{ActiveSupport.version} on Ruby #{RUBY_VERSION}, #{PER_ROUND} × #{ROUNDS} rounds, medians:"
puts
puts "| operation | ActiveSupport | tokenring | ActiveSupport ÷ tokenring |"
puts "|---|---:|---:|---:|"
[["sha256_current", "SHA256", true], ["sha1_legacy", "SHA1", false]].each do |name, digest, current|
  ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata = current
  verifier = ActiveSupport::MessageVerifier.new(SECRET, digest: digest, serializer: JSON)
  token = verifier.generate(VALUE, purpose: "login", expires_in: 15.minutes)
  raise "Ruby cannot read its own token" unless verifier.verified(token, purpose: "login") == VALUE
  {
    "sign" => median_ns { verifier.generate(VALUE, purpose: "login", expires_in: 15.minutes) },
    "verify" => median_ns { verifier.verified(token, purpose: "login") },
  }.each do |op, ruby|
    rust = criterion("#{name}_#{op}")
    ratio = rust ? format("%.0f×", ruby / rust) : "(run the Rust bench)"
    rust_text = rust ? format("%.0f ns", rust) : "–"
    puts format("| %s %s | %.0f ns | %s | %s |", name, op, ruby, rust_text, ratio)
  end
end

# Reads hand-made Rails tokens (tests/rails_corners.rs writes them) with the real
# ActiveSupport::MessageVerifier on RUBYLIB and prints, as JSON, what Rails made of each:
# {"name", "verdict": "ok" | "invalid" | "raised", "value" (JSON text) | "reason"}. A case
# with "reader": "cookie" is read as a signed cookie jar reads its value.
#
#   tests/rails/ruby 7.2 tests/rails/corners.rb cases.json
require "json"
require "active_support"
require "active_support/message_verifier"

input = JSON.parse(File.read(ARGV.fetch(0)))
secret = [input.fetch("secret_hex")].pack("H*")
verifier = ActiveSupport::MessageVerifier.new(secret, digest: "SHA256", serializer: JSON)
# What a signed cookie jar (7.1+) builds: a verifier without serializer, the value then loaded
# by the cookies serializer (:json).
cookie_verifier = ActiveSupport::MessageVerifier.new(
  secret, digest: "SHA256", serializer: ActiveSupport::MessageEncryptor::NullSerializer
)
results = input.fetch("cases").map do |c|
  cookie = c["reader"] == "cookie"
  reader = cookie ? cookie_verifier : verifier
  verdict =
    begin
      value = if c["purpose"].nil?
        reader.verify(c["token"])
      else
        reader.verify(c["token"], purpose: c["purpose"])
      end
      value = ActiveSupport::JSON.decode(value) if cookie
      { "verdict" => "ok", "value" => JSON.generate(value) }
    rescue ActiveSupport::MessageVerifier::InvalidSignature => e
      { "verdict" => "invalid", "reason" => e.message }
    rescue StandardError => e
      { "verdict" => "raised", "reason" => "#{e.class}: #{e.message}" }
    end
  verdict.merge("name" => c["name"])
end
puts JSON.generate("rails" => ActiveSupport.version.to_s, "results" => results)

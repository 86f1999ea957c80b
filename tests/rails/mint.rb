# Mints Rails MessageVerifier vectors with the ActiveSupport/ActiveRecord on RUBYLIB (6.1 from
# Debian bookworm, 7.2 from Debian trixie; see tests/rails/setup.sh) and prints them as JSON.
# Deterministic: time is frozen, secrets are fixed; CI regenerates and diffs them.
#
#   ruby tests/rails/mint.rb > tests/vectors/rails-6.1.json
require "json"
require "base64"
require "active_support"
require "active_support/message_verifier"
require "active_support/key_generator"
require "active_support/testing/time_helpers"
require "active_record"

include ActiveSupport::Testing::TimeHelpers

VERSION = ActiveSupport.version.to_s[/\A\d+\.\d+/]
MODERN = Gem::Version.new(VERSION) >= Gem::Version.new("7.1")
SECRET_KEY_BASE = "tokenring-test-secret-key-base-0123456789abcdef0123456789abcdef"
NOW = Time.utc(2099, 1, 1, 0, 0, 0)
FUTURE = Time.utc(2099, 12, 31, 23, 59, 59.123456r)
PAST = Time.utc(2001, 1, 1, 0, 0, 0)

def key_generator(digest, iterations)
  if MODERN
    ActiveSupport::KeyGenerator.new(SECRET_KEY_BASE, iterations: iterations, hash_digest_class: digest)
  else
    ActiveSupport::KeyGenerator.new(SECRET_KEY_BASE, iterations: iterations) # 6.1: SHA1 only
  end
end

kdf = []
digests = MODERN ? [OpenSSL::Digest::SHA1, OpenSSL::Digest::SHA256] : [OpenSSL::Digest::SHA1]
digests.each do |digest|
  [1000, 2].each do |iterations|
    [64, 32].each do |size|
      kdf << {
        "kdf_digest" => digest.name.sub("OpenSSL::Digest::", ""),
        "iterations" => iterations, "salt" => "tokenring/test", "key_size" => size,
        "key_hex" => key_generator(digest, iterations).generate_key("tokenring/test", size).unpack1("H*"),
      }
    end
  end
end

SECRET = key_generator(OpenSSL::Digest::SHA1, 1000).generate_key("tokenring/test", 64)
VALUES = [42, "hello", true, nil, [1, "x", 2.5], { "a" => [1, 2, { "b" => nil }], "s" => "ü <&> \u2028 \"q\"" }]

def verifier(digest, url_safe)
  options = { digest: digest, serializer: JSON }
  options[:url_safe] = true if url_safe
  ActiveSupport::MessageVerifier.new(SECRET, **options)
end

def set_envelope(form)
  return unless MODERN
  ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata = (form == "current")
end

vectors = []
travel_to(NOW) do
  envelopes = MODERN ? ["legacy", "current"] : ["legacy"]
  %w[SHA1 SHA256 SHA384 SHA512].each do |digest|
    (MODERN ? [false, true] : [false]).each do |url_safe|
      envelopes.each do |envelope|
        set_envelope(envelope)
        v = verifier(digest, url_safe)
        VALUES.each_with_index do |value, i|
          [[nil, nil], ["login", FUTURE], ["login", nil], [nil, FUTURE], ["", nil], ["login", PAST]].each do |purpose, exp|
            # Keep the matrix small: every value with no metadata, one value with each metadata.
            next if (purpose || exp) && i != 5 && i != 0
            options = {}
            options[:purpose] = purpose unless purpose.nil?
            options[:expires_at] = exp unless exp.nil?
            token = v.generate(value, **options)
            vectors << {
              "digest" => digest, "url_safe" => url_safe, "envelope" => envelope,
              "value" => value, "purpose" => purpose, "expires_at" => exp&.utc&.iso8601(3),
              "token" => token,
              "verified" => v.verified(token, purpose: purpose),
              "verified_without_purpose" => v.verified(token),
              "verified_other_purpose" => v.verified(token, purpose: "other"),
              "expired" => exp == PAST,
            }
          end
        end
      end
    end
  end
end
set_envelope("legacy")

# ActiveRecord: signed_id and generates_token_for on an in-memory SQLite model.
ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
ActiveRecord::Schema.verbose = false
ActiveRecord::Schema.define do
  create_table(:users) { |t| t.string :email; t.string :password_salt }
end
class User < ActiveRecord::Base; end
SIGNED_ID_SECRET = key_generator(MODERN ? OpenSSL::Digest::SHA256 : OpenSSL::Digest::SHA1, 1000).generate_key("active_record/signed_id")
ActiveRecord::Base.signed_id_verifier_secret = SIGNED_ID_SECRET
if MODERN
  ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata = true # load_defaults 7.1+
  TOKEN_FOR_SECRET = key_generator(OpenSSL::Digest::SHA256, 1000).generate_key("active_record/token_for")
  ActiveRecord::Base.generated_token_verifier =
    ActiveSupport::MessageVerifier.new(TOKEN_FOR_SECRET, digest: "SHA1", serializer: :json_allow_marshal)
  User.generates_token_for(:password_reset, expires_in: 15 * 60) { password_salt.last(10) }
  User.generates_token_for(:email_confirmation)
end

records = []
travel_to(NOW) do
  user = User.create!(email: "ada@example.com", password_salt: "$2a$12$abcdefghijklmnopqrstuv")
  signed = [
    [nil, nil], ["password_reset", nil], ["password_reset", 900],
  ].map do |purpose, expires_in|
    options = {}
    options[:purpose] = purpose if purpose
    options[:expires_in] = expires_in if expires_in
    token = user.signed_id(**options)
    { "purpose" => purpose, "expires_in" => expires_in, "token" => token,
      "found" => User.find_signed(token, purpose: purpose)&.id }
  end
  records << { "kind" => "signed_id", "model" => "User", "id" => user.id,
               "secret_hex" => SIGNED_ID_SECRET.unpack1("H*"), "tokens" => signed }
  if MODERN
    reset = user.generate_token_for(:password_reset)
    confirm = user.generate_token_for(:email_confirmation)
    records << { "kind" => "token_for", "model" => "User", "id" => user.id,
                 "password_salt" => user.password_salt,
                 "secret_hex" => TOKEN_FOR_SECRET.unpack1("H*"),
                 "tokens" => [
                   { "purpose" => "password_reset", "expires_in" => 900, "token" => reset,
                     "found" => User.find_by_token_for(:password_reset, reset)&.id },
                   { "purpose" => "email_confirmation", "expires_in" => nil, "token" => confirm,
                     "found" => User.find_by_token_for(:email_confirmation, confirm)&.id },
                 ] }
  end
end

puts JSON.pretty_generate({
  "rails" => ActiveSupport.version.to_s,
  "generator" => "tests/rails/mint.rb",
  "now" => NOW.iso8601(3),
  "secret_key_base" => SECRET_KEY_BASE,
  "secret_hex" => SECRET.unpack1("H*"),
  "key_generator" => kdf,
  "vectors" => vectors,
  "records" => records,
})

# Verifies tokens minted by tokenring with the real ActiveSupport/ActiveRecord on RUBYLIB.
# Input: the JSON file tests/rails_live.rs writes. Exits 1 listing every disagreement.
#
#   tests/rails/ruby 7.2 tests/rails/verify.rb tokens.json
require "json"
require "active_support"
require "active_support/message_verifier"
require "active_support/key_generator"
require "active_record"

MODERN = Gem::Version.new(ActiveSupport.version.to_s[/\A\d+\.\d+/]) >= Gem::Version.new("7.1")
input = JSON.parse(File.read(ARGV.fetch(0)))
secret = [input.fetch("secret_hex")].pack("H*")
problems = []
checked = 0

input.fetch("messages").each do |m|
  options = { digest: m["digest"], serializer: JSON }
  options[:url_safe] = true if m["verify_url_safe"]
  verifier = ActiveSupport::MessageVerifier.new(secret, **options)
  purpose = m["purpose"]
  got = purpose.nil? ? verifier.verified(m["token"]) : verifier.verified(m["token"], purpose: purpose)
  want = m["expect_valid"] ? m["value"] : nil
  problems << "message #{m["name"]}: Rails gave #{got.inspect}, expected #{want.inspect}" unless got == want
  checked += 1
end

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
ActiveRecord::Schema.verbose = false
ActiveRecord::Schema.define { create_table(:users) { |t| t.string :password_salt } }
class User < ActiveRecord::Base; end
keys = ActiveSupport::KeyGenerator.new(input.fetch("secret_key_base"), iterations: 1000,
                                       **(MODERN ? { hash_digest_class: OpenSSL::Digest::SHA256 } : {}))
ActiveRecord::Base.signed_id_verifier_secret = keys.generate_key("active_record/signed_id")
if MODERN
  ActiveRecord::Base.generated_token_verifier = ActiveSupport::MessageVerifier.new(
    keys.generate_key("active_record/token_for"), digest: "SHA1", serializer: :json_allow_marshal)
  User.generates_token_for(:password_reset, expires_in: 15 * 60) { password_salt.last(10) }
end
user = User.create!(id: 1, password_salt: input.fetch("password_salt"))

input.fetch("signed_ids").each do |s|
  found = User.find_signed(s["token"], purpose: s["purpose"])&.id
  problems << "signed_id #{s["name"]}: Rails found #{found.inspect}, expected #{s["found"].inspect}" unless found == s["found"]
  checked += 1
end
input.fetch("tokens_for", []).each do |t|
  found = User.find_by_token_for(:password_reset, t["token"])&.id
  problems << "token_for #{t["name"]}: Rails found #{found.inspect}, expected 1" unless found == 1
  checked += 1
end
if MODERN && !input.fetch("tokens_for", []).empty?
  user.update!(password_salt: "#{input.fetch("password_salt")}-changed")
  input["tokens_for"].each do |t|
    found = User.find_by_token_for(:password_reset, t["token"])&.id
    problems << "token_for #{t["name"]} after a password change: found #{found.inspect}" unless found.nil?
  end
end

if problems.empty?
  puts "ActiveSupport #{ActiveSupport.version}: #{checked} tokenring tokens judged, all as expected"
else
  warn problems
  exit 1
end

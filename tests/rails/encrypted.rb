# Rails' MessageEncryptor and cookie jars, both ways, with the real ActiveSupport/ActionPack on
# RUBYLIB. Input: the JSON file tests/integration/rails_encrypted.rs writes — messages and
# cookies tokenring made, each with the value Rails must read from it (null: must not read).
# Output (stdout, JSON): what Rails read wrong ("problems"), and messages and cookies Rails
# made (with the value each holds) for tokenring to read.
#
#   tests/rails/ruby 7.2 tests/rails/encrypted.rb input.json
require "json"
require "active_support"
require "active_support/message_encryptor"
require "active_support/key_generator"
require "active_support/messages/rotation_configuration"
require "active_support/core_ext/numeric/time"
require "action_dispatch"
require "action_dispatch/middleware/cookies"
require "action_dispatch/middleware/session/cookie_store"
require "rack/mock"

MODERN = Gem::Version.new(ActiveSupport.version.to_s[/\A\d+\.\d+/]) >= Gem::Version.new("7.1")
input = JSON.parse(File.read(ARGV.fetch(0)))
hex = ->(name) { [input.fetch(name)].pack("H*") }
SECRET = hex.("secret_hex")
SIGN_SECRET = hex.("sign_secret_hex")
OLD_SECRET = hex.("old_secret_hex")
problems = []
checked = 0

def encryptor(config, secret = SECRET)
  options = { cipher: config.fetch("cipher"), serializer: JSON }
  options[:digest] = config["digest"] if config["digest"]
  options[:url_safe] = true if config["url_safe"]
  sign = config["cipher"] == "aes-256-cbc" && config["sign_secret"] ? [SIGN_SECRET] : []
  ActiveSupport::MessageEncryptor.new(secret, *sign, **options)
end

def with_envelope(config)
  return yield unless MODERN
  before = ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata
  ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata = config["envelope"] == "current"
  yield
ensure
  ActiveSupport::Messages::Metadata.use_message_serializer_for_metadata = before if MODERN
end

def read(expected)
  expected.nil? ? nil : JSON.parse(expected)
end

# Messages tokenring encrypted: Rails decrypts each (rotated ones with `rotate`).
input.fetch("messages").each do |m|
  enc = encryptor(m)
  enc.rotate(OLD_SECRET, **(m["url_safe"] ? { url_safe: true } : {})) if m["rotated"]
  got = begin
    enc.decrypt_and_verify(m["token"], **(m["purpose"] ? { purpose: m["purpose"] } : {}))
  rescue ActiveSupport::MessageEncryptor::InvalidMessage, ActiveSupport::MessageVerifier::InvalidSignature
    nil
  end
  want = read(m["expect"])
  problems << "message #{m["name"]}: Rails read #{got.inspect}, expected #{want.inspect}" unless got == want
  checked += 1
end

# Messages Rails encrypts, for tokenring to read.
values = [42, "hé <&> \u2028", { "user" => { "id" => 7, "roles" => ["a", "b"] }, "n" => nil }]
minted = []
input.fetch("encryptor_configs").each do |config|
  next if config["url_safe"] && !MODERN
  values.each_with_index do |value, i|
    [nil, "login"].each do |purpose|
      [nil, 3600, -10].each do |expires_in|
        options = {}
        options[:purpose] = purpose if purpose
        if expires_in&.positive?
          options[:expires_in] = expires_in
        elsif expires_in
          options[:expires_at] = Time.now.utc + expires_in
        end
        # (CBC is not rotated here: with one signing secret for both, a wrong key's padding
        # is right once in 256 tries, and Rails itself then refuses instead of rotating.)
        rotated = i == 1 && config["cipher"] == "aes-256-gcm"
        token = with_envelope(config) { encryptor(config, rotated ? OLD_SECRET : SECRET).encrypt_and_sign(value, **options) }
        minted << config.merge("name" => "#{config["name"]}/#{i}/#{purpose}/#{expires_in}",
                               "token" => token, "purpose" => purpose, "rotated" => rotated,
                               "value" => JSON.generate(value), "valid" => !(expires_in && expires_in < 0))
      end
    end
  end
end

# Cookie jars over a request, configured as an app on `version`'s defaults.
def request_for(cookie_header, app)
  skb = app.fetch("secret_key_base")
  generator = ActiveSupport::KeyGenerator.new(skb, iterations: 1000,
    **(app["kdf_digest"] == "SHA256" ? { hash_digest_class: OpenSSL::Digest::SHA256 } : {}))
  env = Rack::MockRequest.env_for("/", "HTTP_COOKIE" => cookie_header)
  {
    "action_dispatch.secret_key_base" => skb,
    "action_dispatch.key_generator" => ActiveSupport::CachingKeyGenerator.new(generator),
    "action_dispatch.signed_cookie_salt" => "signed cookie",
    "action_dispatch.encrypted_cookie_salt" => "encrypted cookie",
    "action_dispatch.encrypted_signed_cookie_salt" => "signed encrypted cookie",
    "action_dispatch.authenticated_encrypted_cookie_salt" => "authenticated encrypted cookie",
    "action_dispatch.use_authenticated_cookie_encryption" => app.fetch("authenticated"),
    "action_dispatch.encrypted_cookie_cipher" => "aes-256-gcm",
    "action_dispatch.signed_cookie_digest" => "SHA1",
    "action_dispatch.cookies_serializer" => app.fetch("serializer").to_sym,
    "action_dispatch.use_cookies_with_metadata" => app.fetch("metadata"),
    "action_dispatch.cookies_rotations" => ActiveSupport::Messages::RotationConfiguration.new,
  }.each { |k, v| env[k] = v }
  ActionDispatch::Request.new(env)
end

def set_cookie_value(response, name)
  header = response.headers["set-cookie"] || response.headers["Set-Cookie"]
  lines = header.is_a?(Array) ? header : header.to_s.split("\n")
  lines.map { |line| line[/\A#{Regexp.escape(name)}=([^;]*)/, 1] }.compact.first
end

# Cookies tokenring wrote: Rails' jar reads each as the browser sends it back.
input.fetch("cookies").each do |c|
  jar = request_for("#{c["name"]}=#{c["value"]}", c.fetch("app")).cookie_jar
  got = c["jar"] == "signed" ? jar.signed[c["name"]] : jar.encrypted[c["name"]]
  want = read(c["expect"])
  problems << "cookie #{c["label"]}: Rails read #{got.inspect}, expected #{want.inspect}" unless got == want
  checked += 1
end

# Cookies Rails writes, for tokenring to read.
cookies = []
input.fetch("cookie_apps").each do |app|
  values.each_with_index do |value, i|
    %w[signed encrypted].each do |kind|
      [nil, 1.hour].each do |expires|
        name = "c#{i}"
        request = request_for("", app)
        jar = request.cookie_jar
        cookie = expires ? { value: value, expires: expires } : { value: value }
        kind == "signed" ? jar.signed[name] = cookie : jar.encrypted[name] = cookie
        response = ActionDispatch::Response.new
        jar.write(response)
        cookies << { "app" => app, "jar" => kind, "name" => name, "value" => set_cookie_value(response, name),
                     "expect" => JSON.generate(value), "label" => "#{app["label"]}/#{kind}/#{i}/#{expires.inspect}" }
      end
    end
  end
end

# The session cookie, through Rails' own CookieStore middleware over a Rack app.
session_app = input.fetch("cookie_apps").first
inner = lambda do |env|
  env["rack.session"]["user_id"] = 7
  env["rack.session"]["name"] = "Ann <&>"
  [200, {}, ["ok"]]
end
# (The Cookies middleware writes the jar's cookies into the response, as in an app's stack.)
store = ActionDispatch::Cookies.new(ActionDispatch::Session::CookieStore.new(inner, key: "_app_session"))
request = request_for("", session_app)
status, headers, = store.call(request.env)
header = headers["set-cookie"] || headers["Set-Cookie"]
lines = header.is_a?(Array) ? header : header.to_s.split("\n")
session_value = lines.map { |line| line[/\A_app_session=([^;]*)/, 1] }.compact.first
problems << "the session store answered #{status} without a cookie" unless status == 200 && session_value

# A session cookie tokenring wrote, read by the CookieStore.
if (theirs = input["session_cookie"])
  reader = ->(env) { [200, {}, [JSON.generate(env["rack.session"].to_hash)]] }
  request = request_for("_app_session=#{theirs}", session_app)
  _, _, body = ActionDispatch::Session::CookieStore.new(reader, key: "_app_session").call(request.env)
  text = +""
  body.each { |part| text << part }
  session = JSON.parse(text)
  problems << "the session store read #{session.inspect} from tokenring's cookie" unless session["user_id"] == 7 && session["name"] == "Ann <&>"
  checked += 1
end

puts JSON.generate(
  "rails" => ActionPack.version.to_s, "checked" => checked, "problems" => problems,
  "messages" => minted, "cookies" => cookies, "session_cookie" => session_value,
)

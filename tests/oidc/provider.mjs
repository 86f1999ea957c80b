// oidc-provider (panva/node-oidc-provider) on loopback: an OpenID Provider nobody here wrote,
// issuing client-credentials access tokens as RS256 JWTs, its signing keys rotated on command.
//
//   node provider.mjs
//     prints `listening ISSUER`, then answers one line per command read on stdin:
//       token      a client-credentials access token for the resource `orders` (a JWT)
//       stage N    the provider's keys become stage N's and it says `ok`:
//                    1: [k1]      2: [k1, k2] (k2 published, k1 signs)
//                    3: [k2, k1] (k2 signs)   4: [k2] (k1 removed)
//       forged     a JWT naming the signing key's kid, signed by a key nobody publishes
//       expired    a JWT signed by the signing key, expired an hour ago
//       fetches    {"tokenring": N, "pyjwt": M}: requests for /jwks?client=tokenring|pyjwt
//
// The provider is rebuilt for each stage behind one HTTP server, so the issuer never goes
// down while its keys change. Modules come from $TOKENRING_NODE (/tmp/tokenring-node).
import http from "node:http";
import readline from "node:readline";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const dir = process.env.TOKENRING_NODE || "/tmp/tokenring-node";
const require = createRequire(`${dir}/`);
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);
const { default: Provider } = await load("oidc-provider");
const jose = await load("jose");

async function rsaKey(kid) {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}
const k1 = await rsaKey("k1");
const k2 = await rsaKey("k2");
const stages = { 1: [k1], 2: [k1, k2], 3: [k2, k1], 4: [k2] };

const fetches = { tokenring: 0, pyjwt: 0 };
let provider;
let issuer;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/jwks") {
    const client = url.searchParams.get("client");
    if (client in fetches) fetches[client] += 1;
  }
  provider.callback()(req, res);
});

function build(keys) {
  const built = new Provider(issuer, {
    clients: [
      {
        client_id: "svc",
        client_secret: "svc-secret",
        grant_types: ["client_credentials"],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    jwks: { keys },
    cookies: { keys: ["tokenring-test-only"] },
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => "urn:example:orders",
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: "read",
          audience: "orders",
          accessTokenTTL: 600,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: "RS256" } },
        }),
      },
    },
  });
  return built;
}

async function token() {
  const body = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: "svc",
    client_secret: "svc-secret",
    scope: "read",
  });
  const response = await fetch(`${issuer}/token`, { method: "POST", body });
  const answer = await response.json();
  if (!answer.access_token) throw new Error(JSON.stringify(answer));
  return answer.access_token;
}

let stage = 1;
const signing = () => stages[stage][0];

async function signed(key, exp) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ iss: issuer, aud: "orders", client_id: "svc", scope: "read" })
    .setProtectedHeader({ alg: "RS256", kid: signing().kid, typ: "at+jwt" })
    .setIssuedAt(now - 7200)
    .setExpirationTime(exp)
    .sign(await jose.importJWK(key, "RS256"));
}

async function answer(command) {
  const [name, arg] = command.trim().split(/\s+/);
  switch (name) {
    case "token":
      return token();
    case "stage":
      stage = Number(arg);
      provider = build(stages[stage]);
      return "ok";
    case "forged":
      return signed(await rsaKey(signing().kid), Math.floor(Date.now() / 1000) + 600);
    case "expired":
      return signed(signing(), Math.floor(Date.now() / 1000) - 3600);
    case "fetches":
      return JSON.stringify(fetches);
    default:
      throw new Error(`unknown command ${command}`);
  }
}

server.listen(0, "127.0.0.1", () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  provider = build(stages[1]);
  console.log(`listening ${issuer}`);
  const lines = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      try {
        console.log(await answer(line));
      } catch (error) {
        console.log(`error ${error.message}`);
      }
    });
  });
  lines.on("close", () => queue.then(() => process.exit(0)));
});

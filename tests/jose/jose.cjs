// Node's `jose` (panva/jose) on the other side of tokenring's JWS.
//
//   node jose.cjs verify JWKS_FILE TOKEN AUDIENCE   the claims as JSON, verified with the JWKS
//                                                   (jwtVerify, the key chosen by kid and its
//                                                   alg); exit 1 and the error's code otherwise
//   node jose.cjs mint ALG KID CLAIMS               a new key: {"jwk": its public JWK,
//                                                   "token": CLAIMS signed}
const fs = require("fs");
const dir = process.env.TOKENRING_NODE || "/tmp/tokenring-node";
const jose = require(require.resolve("jose", { paths: [dir] }));

async function verify(jwksFile, token, audience) {
  const jwks = jose.createLocalJWKSet(JSON.parse(fs.readFileSync(jwksFile, "utf8")));
  try {
    const { payload } = await jose.jwtVerify(token, jwks, { audience });
    console.log(JSON.stringify(payload));
  } catch (error) {
    console.log(error.code || error.name);
    process.exit(1);
  }
}

async function mint(alg, kid, claims) {
  const options = alg === "EdDSA" ? { crv: "Ed25519" } : {};
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, options);
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: "sig" };
  const token = await new jose.SignJWT(JSON.parse(claims))
    .setProtectedHeader({ alg, kid })
    .sign(privateKey);
  console.log(JSON.stringify({ jwk, token }));
}

const [command, ...args] = process.argv.slice(2);
(command === "verify" ? verify(...args) : mint(...args)).catch((error) => {
  console.error(error);
  process.exit(2);
});

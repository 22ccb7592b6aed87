// lora-packet (npm) as a LoRaWAN 1.0.2 oracle for tests/lora: an implementation we did not write.
// Reads one JSON object a line on stdin: {"id": ..., "op": ..., ...}; writes one JSON line back:
// {"id", "result": {...}} or {"id", "error": "message"}. Byte strings are hex; DevAddr, EUIs, nonces,
// NetID as printed (most significant byte first), the way lora-packet takes them; fcnt_msb is the two
// high bytes of a 32-bit FCnt as lora-packet puts them in the B0/A blocks (low byte first: "0100").
//
// ops:
//   join_accept {app_key, app_nonce, net_id, dev_addr, dl_settings, rx_delay, cflist}
//       -> {frame (encrypted, as on air), plain (MHDR .. MIC in clear)}
//   session_keys {app_key, net_id, app_nonce, dev_nonce} -> {nwk_skey, app_skey}
//   decode {frame, nwk_skey?, app_skey?, app_key?, fcnt_msb?}
//       -> {mtype, dir, dev_addr, fcnt, fport, ack, adr, adr_ack_req, fpending, fopts, payload,
//           mic_ok, app_eui, dev_eui, dev_nonce}
//   data {mtype, dev_addr, fcnt, fport, payload, fopts, ack, adr, fpending, nwk_skey, app_skey,
//         fcnt_msb?} -> {frame}
import { createInterface } from "node:readline";
import { createDecipheriv } from "node:crypto";
import loraPacket from "lora-packet";

const hex = (value) => Buffer.from(value || "", "hex");
const out = (buffer) => (buffer ? Buffer.from(buffer).toString("hex") : null);

function aesDecrypt(key, data) {
  // the network server's side of a JoinAccept: AES-128 *decryption* (LoRaWAN 1.0.2, 6.2.5)
  const decipher = createDecipheriv("aes-128-ecb", key, null);
  decipher.setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

const ops = {
  join_accept(req) {
    const appKey = hex(req.app_key);
    const packet = loraPacket.fromFields(
      {
        MType: "Join Accept",
        AppNonce: hex(req.app_nonce),
        NetID: hex(req.net_id),
        DevAddr: hex(req.dev_addr),
        DLSettings: req.dl_settings || 0,
        RxDelay: req.rx_delay || 0,
        CFList: hex(req.cflist),
      },
      undefined,
      undefined,
      appKey,
    );
    // with AppKey, lora-packet computes the MIC and encrypts: the frame as on air
    const frame = packet.getPHYPayload();
    const plain = loraPacket.decryptJoinAccept(loraPacket.fromWire(frame), appKey);
    // the network server encrypts with AES *decryption* (LoRaWAN 1.0.2, 6.2.5): check lora-packet did
    const mine = Buffer.concat([plain.subarray(0, 1), aesDecrypt(appKey, plain.subarray(1))]);
    if (!mine.equals(frame)) throw new Error("lora-packet's join accept is not AES-decrypt(AppKey)");
    return { frame: out(frame), plain: out(plain) };
  },
  session_keys(req) {
    const keys = loraPacket.generateSessionKeys10(
      hex(req.app_key), hex(req.net_id), hex(req.app_nonce), hex(req.dev_nonce),
    );
    return { nwk_skey: out(keys.NwkSKey), app_skey: out(keys.AppSKey) };
  },
  decode(req) {
    const packet = loraPacket.fromWire(hex(req.frame));
    const msb = req.fcnt_msb ? hex(req.fcnt_msb) : undefined;
    const result = { mtype: packet.getMType(), dir: packet.getDir() };
    if (packet.isJoinRequestMessage()) {
      result.app_eui = out(packet.AppEUI);
      result.dev_eui = out(packet.DevEUI);
      result.dev_nonce = out(packet.DevNonce);
      if (req.app_key) result.mic_ok = loraPacket.verifyMIC(packet, undefined, hex(req.app_key));
      return result;
    }
    if (!packet.isDataMessage()) return result;
    Object.assign(result, {
      dev_addr: out(packet.DevAddr),
      fcnt: packet.getFCnt(),
      fport: packet.getFPort(),
      ack: packet.getFCtrlACK(),
      adr: packet.getFCtrlADR(),
      adr_ack_req: packet.getFCtrlADRACKReq(),
      fpending: packet.getFCtrlFPending(),
      fopts: out(packet.FOpts),
    });
    if (req.nwk_skey) {
      result.mic_ok = loraPacket.verifyMIC(packet, hex(req.nwk_skey), undefined, msb);
      if (packet.FRMPayload && packet.FRMPayload.length) {
        result.payload = out(loraPacket.decrypt(packet, hex(req.app_skey), hex(req.nwk_skey), msb));
      }
    }
    return result;
  },
  data(req) {
    const fields = {
      MType: req.mtype,
      DevAddr: hex(req.dev_addr),
      FCnt: req.fcnt & 0xffff,
      FCtrl: { ACK: !!req.ack, ADR: !!req.adr, FPending: !!req.fpending },
      FOpts: hex(req.fopts),
    };
    if (req.fport !== undefined && req.fport !== null) {
      fields.FPort = req.fport;
      fields.payload = hex(req.payload);
    }
    const msb = req.fcnt_msb ? hex(req.fcnt_msb) : undefined;
    const packet = loraPacket.fromFields(fields, hex(req.app_skey), hex(req.nwk_skey), undefined, msb);
    return { frame: out(packet.getPHYPayload()) };
  },
};

process.stdout.write(JSON.stringify({ ready: true }) + "\n");
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  const req = JSON.parse(line);
  try {
    process.stdout.write(JSON.stringify({ id: req.id, result: ops[req.op](req) }) + "\n");
  } catch (err) {
    process.stdout.write(JSON.stringify({ id: req.id, error: String(err && err.message) }) + "\n");
  }
}

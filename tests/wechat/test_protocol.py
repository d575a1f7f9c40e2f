"""The wire protocol: WeChat's published AES vector, signatures, safe XML, dedup keys."""

import base64

import pytest
from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException

from app.wechat.protocol import (
    MAX_REPLY_BYTES,
    BadMessage,
    BadSignature,
    fit_reply,
    message_of,
    open_message,
    parse_xml,
    verify_request,
)
from tests.wechat.sender import documented, fixture_text, sign

# WeChat's published test vector (消息加解密说明).
VECTOR_TOKEN = "pamtest"
VECTOR_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
VECTOR_APPID = "wxb11529c136998cb6"
VECTOR_TEXT = "我是中文abcd123"
VECTOR_RANDOM = "aaaabbbbccccdddd"
VECTOR_CIPHER = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="


def _prp() -> PrpCrypto:
    return PrpCrypto(base64.b64decode(VECTOR_KEY + "="))


def test_published_vector_encrypts_to_the_published_ciphertext():
    crypto = _prp()
    crypto.get_random_string = lambda: VECTOR_RANDOM
    assert crypto.encrypt(VECTOR_TEXT, VECTOR_APPID).decode() == VECTOR_CIPHER


def test_published_vector_decrypts_to_the_published_text():
    assert _prp().decrypt(VECTOR_CIPHER, VECTOR_APPID) == VECTOR_TEXT


def test_published_vector_for_another_appid_is_refused():
    with pytest.raises(InvalidAppIdException):
        _prp().decrypt(VECTOR_CIPHER, "wx0000000000000000")


def test_open_message_decrypts_an_aes_push_signed_with_the_vector_credentials():
    crypto = WeChatCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_APPID)
    xml = documented("text", FromUserName="oVector", Content=VECTOR_TEXT)
    envelope = parse_xml(crypto.encrypt_message(xml, "nonce1", "1409304348"))
    body = fixture_text("aes_envelope.xml").replace("msg_encrypt", envelope["Encrypt"]).encode()
    args = {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"], "timestamp": "1409304348"}
    args["nonce"] = "nonce1"
    inbound = open_message(body, args, crypto=crypto)
    assert inbound.encrypted
    assert inbound.message.content == VECTOR_TEXT
    assert inbound.openid == "oVector"
    with pytest.raises(BadSignature):
        open_message(body, {**args, "msg_signature": "0" * 40}, crypto=crypto)


def test_request_signature_is_sha1_of_sorted_token_timestamp_nonce():
    args = {
        "signature": sign("demo-token", "1409304348", "xxxxxx"),
        "timestamp": "1409304348",
        "nonce": "xxxxxx",
    }
    verify_request("demo-token", args)
    with pytest.raises(BadSignature):
        verify_request("other-token", args)
    with pytest.raises(BadSignature):
        verify_request("demo-token", {"timestamp": "1", "nonce": "2"})


@pytest.mark.parametrize("name", ["xxe_file.xml", "billion_laughs.xml"])
def test_dtds_and_entities_are_refused(name):
    with pytest.raises(BadMessage):
        parse_xml(fixture_text(name))


@pytest.mark.parametrize(
    "body", [b"", b"not xml", b"<html><body/></html>", b"<xml><a>", "<xml>\u0000</xml>".encode()]
)
def test_junk_is_refused(body):
    with pytest.raises(BadMessage):
        open_message(body, {}, crypto=None)


def test_encrypted_push_without_a_key_is_refused():
    with pytest.raises(BadMessage):
        open_message(fixture_text("aes_envelope.xml").encode(), {"encrypt_type": "aes"}, crypto=None)


def test_dedup_keys_messages_by_msgid_and_events_by_sender_time_event():
    text = open_message(documented("text", MsgId=42, FromUserName="oA").encode(), {}, crypto=None)
    assert text.dedup_key == "msg:42"
    scan = open_message(
        documented("event_scan", FromUserName="oA", CreateTime=1700000000).encode(), {}, crypto=None
    )
    assert scan.dedup_key == "evt:oA:1700000000:scan:SCENE_VALUE"  # + its EventKey (the scene)
    # The qrscene subscribe keeps WeChat's own event name in the key.
    sub = open_message(
        documented("event_subscribe_qrscene", FromUserName="oA", CreateTime=1).encode(), {}, crypto=None
    )
    assert sub.message.event == "subscribe_scan" and sub.dedup_key == "evt:oA:1:subscribe:qrscene_123123"
    plain = open_message(
        documented("event_subscribe", FromUserName="oA", CreateTime=1).encode(), {}, crypto=None
    )
    assert plain.dedup_key == "evt:oA:1:subscribe"


def test_events_of_one_second_are_told_apart_by_their_key():
    """Two menu buttons tapped within a second, or two template reports: not one push twice."""

    def key(sample: str, **fields) -> str:
        xml = documented(sample, FromUserName="oA", CreateTime=1700000000, **fields)
        return open_message(xml.encode(), {}, crypto=None).dedup_key

    assert key("event_click", EventKey="DUTY") != key("event_click", EventKey="MY_PROGRESS")
    assert key("event_click", EventKey="DUTY") == key("event_click", EventKey="DUTY")  # a retry
    assert key("event_templatesendjobfinish", MsgID=1) != key("event_templatesendjobfinish", MsgID=2)
    long_url = "https://jzd.example.cn/s/837gbw?" + "x" * 300
    view = key("event_view", EventKey=long_url)
    assert len(view) < 160 and view != key("event_view", EventKey=long_url + "y")


def test_fit_reply_keeps_under_wechat_limit_at_a_character_boundary():
    long = "长" * 2000
    fitted = fit_reply(long)
    assert len(fitted.encode()) <= MAX_REPLY_BYTES
    assert fitted.endswith("…")
    assert fit_reply("短") == "短"


PIC_EVENT = """<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oPic]]></FromUserName>
<CreateTime>1408090816</CreateTime><MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[pic_weixin]]></Event><EventKey><![CDATA[6]]></EventKey>
<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum><![CDATA[aaa]]></PicMd5Sum></item>
<item><PicMd5Sum><![CDATA[bbb]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>"""


@pytest.mark.parametrize(
    "xml",
    [
        *(
            fixture_text(f"{name}.xml")
            for name in (
                "text",
                "image",
                "voice",
                "video",
                "shortvideo",
                "location",
                "link",
                "event_subscribe",
                "event_subscribe_qrscene",
                "event_unsubscribe",
                "event_scan",
                "event_location",
                "event_click",
                "event_view",
                "event_templatesendjobfinish",
                "event_masssendjobfinish",
                "event_location_select",
            )
        ),
        documented("text", Content="  留言 前后有空格  "),
        PIC_EVENT,
        documented("event_subscribe", EventKey="scanbarcode|EAN13|6900000000000"),
    ],
)
def test_message_of_builds_what_wechatpy_parses_from_the_same_xml(xml):
    # The endpoint reads each body once (safely) and builds wechatpy's object from the fields.
    ours, theirs = message_of(parse_xml(xml)), parse_message(xml)
    assert type(ours) is type(theirs)
    assert ours._data == theirs._data
    assert (ours.type, getattr(ours, "event", None)) == (theirs.type, getattr(theirs, "event", None))

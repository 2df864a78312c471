// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.25;

/// @title P384
/// @notice ECDSA verification over NIST P-384 (secp384r1) with native 256-bit words.
/// @dev A field element is two words `(hi, lo)` = hi·2^256 + lo with hi < 2^128, always fully reduced
/// below p. Multiplication builds the 768-bit product with MUL/MULMOD and folds it with the Solinas
/// identities 2^512 ≡ 2^256 + D·2^128 and 2^384 ≡ 2^128 + D (mod p), D = 2^96 − 2^32 + 1, so no field
/// product goes through MODEXP. Points are Jacobian (X/Z², Y/Z³).
///
/// The inverse w = s⁻¹ mod n is a hint checked with one multiplication mod n (s·w ≡ 1); n is prime, so
/// the hint is unique. Mod-n products are reduced by the MODEXP precompile with exponent 1.
///
/// Fast path (Antipa et al., "Accelerated verification of ECDSA signatures"): the hint also gives
/// R = u1·G + u2·Q (x(R) ∈ {r, r + n}, y(R) checked on the curve) and a, b below 2^192 with
/// a·u2 ≡ b (mod n), checked with one product; the contract then checks
/// (a·u1 mod n)·G + b·Q − a·R = O, splitting the 384-bit G scalar into halves over G and a constant
/// 2^192·G. That is a 4-scalar Strauss–Shamir multiplication of 192-bit scalars: 192 doublings instead
/// of 384. As a ≢ 0 (mod n) and the group has prime order, the sum is O iff u1·G + u2·Q = R, so an
/// accepted signature is valid whatever the hint. If the half-size part of the hint is unusable (zero,
/// out of range, wrong congruence, R off the curve or not the sum), the signature is judged by the
/// textbook check x(u1·G + u2·Q) ≡ r (same 4-scalar loop over G, 2^192·G, Q and 2^192·Q), so that part
/// of the hint changes only the gas, never the verdict, and the accepted set is exactly textbook ECDSA.
///
/// Tables: the constant odd multiples 1..63 of G and of 2^192·G are code data (width-7 NAF digits); the
/// odd multiples 1..15 of the two other points are computed in Jacobian coordinates and made affine together with one MODEXP inversion
/// (Montgomery's trick), so every addition in the main loop is a mixed addition.
library P384 {
    /// @dev 1·G, 3·G, …, 63·G, then 1·(2^192·G), 3·(2^192·G), …, 63·(2^192·G): affine x ‖ y, 48 bytes each,
    /// big-endian (`test/fixtures/nitro/gen/p384_tables.py`).
    bytes internal constant TABLES =
        hex"aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab73617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f077a41d4606ffa1464793c7e5fdc7d98cb9d3910202dcd06bea4f240d3566da6b408bbae5026580d02d7e5c70500c831c995f7ca0b0c42837d0bbe9602a9fc998520b41c85115aa5f7684c0edc111eacc24abd6be4b5d298b65f28600a2f1df111de24a2c251c777573cac5ea025e467f208e51dbff98fc54f6661cbe56583b037882f4a1ca297e60abcdbc3836d84bc8fa696c77440f92d0f5837e90a00e7c5284b447754d5dee88c986533b6901aeb3177686d0ae8fb33184414abe6c1713a283c1d7365ce4788f29f8ebf234edffead6fe997fbea5ffa2d58cc9dfa7b1c508b05526f55b9ebb2040f05b48fb6d0e19475c99061e41b88ba52efdb8c1690471a61d867ed799729d9c92cd01dbd225630d84ede32a78f9e64664cdac512ef8c8f0a39a4049bcb3ef1bf29b8b025b78f2216f7291e6fd3bac6cb1ee285fb6e21c388528bfee2b9535c55e4461079118b62c77e1438b601d6452c4a5322c3a9799a9b3d7ca3c400c6b7678854aed9b3029e743efedfd51b68262da4f9ac664af8099056e27da7b998da1eeec2904816c57fe935ed5837c37456c9fd14892d3f8c4749b66e3afb81d626356f3b55b4ddd82e4c0c234e30ab96688505544ac5e0396fc4eed8dfc363fd43ff93f41b52a3255466d51263aaff357d5dba8138c5e0bba567ba97b67aea5bafdaf5002ffcc6ab9632bff9f01f873f6267bcd1f0f11c139ee5f441abd99f1baaf1ca1e3b5cbce7de1b38b3989f3318644e4147af164ecc5185595046932ec086329be057857d66776bcb8272218a7d6423a12736f429ccb3d13fc8b32b01058cc15c11d813525522a94156fff01c205b21f9f7da7c4e9ca849557a10b6383b4b88701a9606860b152919e7df9162a61b049b2536164b1beebac4a11d749af484d1114373dfbfd9838d24f8b284af50985d588d33f7bd624099952208b4889600a5ebbcb13e1a32692befb0733b41e6dcc614e42e5805f817012a991af1f486caf3a9add9ffcc035ecf94777833059839474594af603598163ad3f8008ad0cd9b797d277f2388b304da4d2faa9680ecfa650ef5e23b09a08d481dab912bc8ab16858a211d750b77e07dbecca86cd9b012390b430467aabf59c8651060801c0e9599e68713f5d41ba1592ff0121460857be99f2a60669050b2291b68a1039aa0594b32fd7adc0e8c11ffba5608004e646995b07e75e5224527935df4e25c6f47c7817121057d46e1606290985f8283f5f9936136bf42cdb746a37313df88fd64626b4c175eb77422380a1a3b4898d4cd9ab1a3798d1e3524a4f2d4aec079c6b7585d9c4e6c615b532b6f8d9838ef0c139d5606eb10c69f843cb647a5df014c23e741a4a8000d5eb822c0102fd4293a78a68749c30c7f9aa484a900a91f7c4ab51e555ebc684aac8128300479a8f88dd04966f85ebdc18cb46103c7b0218bc8377afbf0557ead636809be21f6414b9be279b65fea0d5a2b14e4c6d5cb9183a6709ee9eb526794676207c4d76fab5ce0a3555746bd28fda97431a8a58b3dcb2ca446f41be83716be9aa37245523aa57845c0027f165dd74ca95942e18d15922f206280b8afe5d6a5a209a957bbac49722cffaf54d7e6aac8979c5fa2c13f418e623c316d5a82c8b70508e3acaa2b4a8d3a4acb49c0d7ba04e220761bc15898e1b06b4eedfa23e2e546f641de0cb075851a5afe81503cb7bf6194fdf1b7da9e59556f015651bd9218e30ef2c4b2213f519b529fb56479f48752f1bc35f9656c6eead7b75810ce554ee56e0af4f41cbcde50fa46d04f4d4dfca2ad69e407f57b1e27977bb83b1eb1a3732458497a559bcdccf733c547c0f2b3dc8d7aec776d94fc70531f70960a30e8383ffe8f5147848a0e53e0d05ef28faf29f2e6f06f0ea533e804fcfa12c087d446c73e3336394c98c59d3993124d374e62061fa485bd1b8a650c8361dba9eb28b98f86e464c200bc46f9e442612fcffbd14a041a8651780d313fb0b9ac114251cd3e8802c6d2fc9ebf3152f5ba7852680c38dbd58238c21bbca92758f2773bb6c955492715879f54bdaf246b3f70bec90d631eaed97add3fe2aefd7fec482c802a828c26694df8188912a77e148373d30feff54a716511f5f17b86f2aba9bd9527d3145ea7abbf4370599a066726d333bb77c12dceca498ff99b9863d46535a5abc3675bf4f728f3ac55a0270e5859145dc998b7fd7b3813ca29e4ae10ae1410eaeee351bc34276d3ad302f0d0bd10269e396e7fb8964f430400487a48cee2b22cc20c5f0bbef2267335747e089cbeef771221b1e1be96dfe8fdb4300af2deaadcd850ac1e45c8fcb941c36c0122a10654e56ba2d9cafcb4482a07272d05de389d50b225fa8a5ed8381ad8460e2e216618059953dd8965d97db233124188d17ebb5f4f2a9231bf6723533ffb21939dd2739bc6b654362621678224c2dcc11702de31c65d0bd2d3642c35b72c15f264347c4983e9bc8a47b24d15ac797ea8f8fedb4482f093849864ec7147eed091efb368dba18218185770c722e5893043a248bf6ad799aed585d888c0979304abbcfcd42ce37b2917ad0d5c411a5ed920a88b095185d456b279a18410d10234b609b8c7077b05ca6a94f76d10f3f39e87c76293bf27e3e07ba0ebb9dabde6f484adc04fbab5b7b88f8035478208f6db859227bb4dda48b4fa5d1dfdcf8a7d7be2a7607e9c3adb9111fe252ca5a2ff485cf5a64f4de52ef9689a5eb5aba8ddfa4745a605aa49a4148fbebc6780dddc249a26a33d83e8d95f813af4db50b9f80b22b4829a69dcb8452f0576634c69c4c0108a6a32dbae5b8175af7420344000dc473550616ce3bf11431d1d9c3bce43bec4f4609eadd9c644fd8393e3258449c2e28cd17cb03d491de84ea016a5b68a56bbfef50fc3325e274b23604e7c76075539542abd918800e37b4e4aa858d74fe2bc8777e08105da32421e5cfe36dde9917c5704711273f595eaba5df1a06f4ca5fa30e0bcc870bf64c76762c0e2a9530742a384f121e9e8ccc22e6b2cd5254db0689a30fe62737fc8fe0818cba0db552ca682b49fa1afe32ae0ca83c213cce2421581486ca7147a032edfc8b0cbdaf9963d58f4cea6c36459d1243ff7f504f32fc1211afd7486cc53003ed182dd74d976a49117348828f5b191d03d1c9da43e8e5a0e8cf258279fcdf96c71d91cebd105c28a71d00bd72553fa3365b422899f57821ad25b38a1bc0bc57b89f62e6ddb768c63b40a8bc6057da46fdafba86d2c9e23c2f5bc0b4a2a1247e8f2cc7126ed3b510b0341a618a8cc08d1b992ffe06fbae0068fb0fea19f27f6881a60fbf2a22fd1f1985d777fe7595994ae0d42fed20299ce970554c6d084dd6077f56cb597b8e22c2ce9a0e5cd10144167c592288353932cf40888e935bdd5f169ba8f41cbe07c3e20b6ff2ca2a90bdc08ac90903c9d776e9fa3120de79718d154feaa542f5c1e7ce4bed6396c943a16024ee7dbf0ae17f7fd0a0c9dcbea9d4197aafc5c555ade9e587ea059cd75571b3507307d064e7750ab08f36d925a4f0112f5f22f519eeae1eb0130d0a0e2e2ee7c873bb25771ff2b4f8540f6ae62c5a75f70026d8cebfcdfc32efc311351556408ff0fa0147d878235aaa880c76b8849bcd5aec87aa569c8d6cc8654ddc7eb10d5a84f1cec9879cabece6c3eb8b272461fc778baa6599653227907fd3823a2b10416709d6a38b6ecb8bd3127066c11092e88830567af763ec9d0742599e648fd7ea47d1d13d1aa1c7e4088d6dbd5abb99b51b867bea8e3578549cc42cb6ad9f7161a4296f482176d1b0191e7691569202b98a2b93e41e5a75d8abbf7b15b29f59772ba77d70f99fe20b0bbd6bb6bad8516d391646e65069fa685ea4223f449e3895ec23168cdfb54deb9182916746338781dda74d5345e24d63f0a12151e620a81a2870b7900c1c476895f729644b4fa011fa92542dbf5872edcb5e5a6d1fb4071db5c24cc10bda2cc75857c802960eaebb7e15002475bc0a80c4479d4c75bb1d9f1cf6593451a9a069884fb986767fb8c48a13e157ec5a3e83cb32e89eb942aab112cae508f5164ca6cac334769de358b333c968cfbb83c8f7b941560583def5431afd574f7e008f8afb1e3ae7166d9710324e2bf69603ffd5ba770fc48b73edc0679cddd7a0499009535daedff59e74a1ac81abe0944e11e2cc19e0b4c800119c440f7f9e706421279b42a31af8a3e297ddb2987894d10ddeaba065458a4f52d78a628b09aaa03bd5316f3fdbf0356b301e5a0191d1f5b77f6577a30eae3567af9c1c7cad135f6ebf2af68aa6de639d858822d0fc5e6c88c411a509ee26fabc337f820ca874cdf382a623be1091e0922c4412788de72320efe88525311345523a8c6d13d9055de60e29a8d3d400bcca1dcb9484b480e0efa1caf3d0a9e581798b747cfb5b11f77605fadded6ea7c7fa6fb2123b6403da53b9d4a8217c8e8cc4419738eb43dd2f845cc5ec8010e2c6a277499a04bbf5d54eef2b2ec62213b5e93cbc5405556f13d61f791306dbdcbc986256c9fc6a53eda619d7a68a8ed13267b0493a8ffa5aa6ee304e2a5656ca3a04352365707829026fbd5ddde438ae7fe418c5fd943bdd58e4b2d0d57f75a8775011000098538b5829b862f7c46cd22f78e204eb8364d4f3bf0bb87ce6a49d7917ea90efe506d140f34f1734ed3a684d64d337088c49da6f2dacdcf32925b999add1feee61463e6173c57d4ac6ca5588b5558c94be86415ef4658d9a47617893a764b7341f958af1b2721773174ade385be745834d4f7db6c1be099324d723d21f15ad9af8db89ff512698605b3039ebfcca764150312f4d875035649d764e40dd43da68932ed604e818e3d19f7b68598ea1c283c8171ab5f0adfb20d327ab44da1d64e78c9326d4775c74646c2572e6ad902d10ca702a86b8e143b584e20861bf7acf66c491b525a584b3bca0e58cedad4786c32eef25e1dba663498e52a4087d5aec6278782a55e2f410721e722e78b42300c0c95778fb3a10ad3be245cf876e128ef46906881ee09aeb905c03e035e69ab5426c15584bf0f5ab43425d7792071bcd37ccb7b6f07dc618f6958667324af4057263b126fdbcaa14e0df12a2adb450e89029149d9f6804a57aa537d68956272256c2ece57e772e9f78c1e3b322dbc5504206e68132d5b6274bbf4ae28be38f9a6efa42d1912f701fd99d661ed42e9826ebc3f9e0c6be476978c9578e72880c783b1d3b1358784c986b1e009aadd2baa6958fd4e026e09d0fdc6ffbc9c93e5a4d4439c92d98e6e2b200a0ece5b35bf2424f0e4979f3dc3adea4b5a52741c183614fc9d058679af0b05a3db11e6435e948762b5d5857c46e056d5441b8df4292765f2de55ad3c791e3a918b61584128e3124cb61c2a49e6da6630b303291c9d82eddf14886d6f7364f22ff95405fde41e0d96bc4cfcabfa74d4f07149fd6b9cc01703941e5ed894ff5825d677f698df5de79a3928339969da0bcaed3107f388dcdf230d3217b8b2434b17510b56d4b0428fc992582a6f4ca2a986767a0b97607f23e767eb1311560cb5142410946535c795298a55b6cc951a794d069783ad9d467c438748d4fa98eb401ef350b06e74df7016fa851dd794d5a47dff0e7bc14ce2b824481654edc731bd7f9afa8d8fe8fa811a1629a6195ccee0c147df482aaef0e1da210a71a25181bce9d89500ae788af18606cf64e5ac3e76d838cf00988fa1c23dfb7e9618c4b7242d9473010f96973dbb4602d1caa1cb4cd07024c4d13b93ba667a4af990fec54f1a4a9c805485882d7f443b5b6569a695172e0dc59fbf3457689141c605e16d47a3e6e7c892e7f946bae63787a9129fd850c3e64c62ba86a630f0850f609b47efed2a4e593d09567b6c0924349bc215fee26d907a1af80dfe090979736898b38ae9b517ea678664db239dc5c87f03cc6143d7f685c3c46329d02cca28b831524b846949ad61041c56e1f06d04d897b5fef039972e3e52f82bc5e10a2b7a22784e4a6a5f75500001d0db14f7ed52ada13bdb9a8021f22bc0cdf039b7e40f095332be55f40222121e91e95b2fca098e2af1c2b7158f7b49158fb3a227ac4c682d4f49a189bb9217c527d6db9e9c1363e776129273dee2cd319528708f0046e9ebf6f0dcf34658b478fb8b3ebb092817119ac3214ab38cce254d9742eb5f83d4836e5bb0ae384f9199609dbc2f610fcb622fd8ed969eba433b46c97db7539b3149b2ed8bce621ad10bf541ca8da0a0ab62479d417b854f7d8c5995311d771af388e289eb8ac17f00176bebe327f8226f9c04cadfe0e30a2f9cded0501caebd7fdcaa722d8702f5a0979bcbb9d8aa61956ce3c1c3c8663cbfc669bf4b8bd9d10c35dace193cba26382c54108cca53cb07af88fd9a6e6689f704c050dc432f89bb9e84f6d7c5cd5ce88f83af2ef47a80b285d0e72bb6c0a3afd814a718200c1cf9224926665206910d190e1f22435cfe5cde96827db17814f76d0bbbcdb0aed11c7afed23afb028f10315ff414296903ae8a2ccb9b8ddac339869ebc4123e5eb149097552477d073ccd2d1b7a26aadad56eb087953e3e588f6809a39335fa4e54101d025fb7c282bbb3bb692e5a7d8279a923020ce997e8a7ef3874ed667998ba21088b4660dc7e3bf2f378a74666293e399af5c199c9f91439b449da718149c0f5c859c2b64497d9743073831336b1a4fd2993f825947ce42a7cc149d7a49e5ade82ea087c37bac931f58f20cf41616747c9e6f88ae81a35be128f19ecdf2d372b0b14e3796bf1959d853023852ac9db639d36c6e9832aa78c779f78ee53c77e58eba7ae1a0f9294c97b967e2f5f806a40a6f7fc971a9e4d9146902636508130c3b44a9f58499bc530217a12ecafee00e98fa87dc1987321244b380e94bc981599cd3edc9f9341e772d7e71059c73492ca3375907fba7d00af252fec94c851a33773989f7f0a4fadb721c91bd17093fef11f791b24150dccb9ca4451c9416200d80904ebdda43a6bee9d2b78f38c01831799d17e2ee04730a0b7ae14a1985b0cb55722bc1aff55fc347753687df2e72e9a87ade1b66475b483fd968f78f3b8861306ffacda3d6920ca062a6d9affb2ea10536efdf0f5ff08fd6b05577280a454a71ee4c07c8bd92d0ad7be9f679c8dafd7a0e2394af47fbe94ff46f72cfdab3db3317039cf66def0f41e92c556fc202575cebb2a85c5c2b59a8bc4db328d12c9f6595e7a19ebc3c13deef4f86b26cf8a0395006589d4568a04cf3ca775470404ae061865df0b6a809ef767c45c2a4628cf42183e503410e303c5dd90eab0c5dce3c3d9254213b840f2ae2fef7f57ffff890f9a03f20c4a9f021e659a3a975430a4bd330695e9d53044533c243aa6651b58f47c1e2e496ab262ec851eca936d2fb08fb44522a5957a21a451100f13e0206e1cbff5610f2ac6f366185d37ddbd63f30d56c24fd062c719ae8e8247f4d97f3feb9eedc33672f8922ed11feed200791ad19fa95894a31f7324ae9f8164d0f2765554218ecd36214248d7dc80774571c967e0b83b5d152736c30565ba85768a611796dce6ae0df4a0ec5ef164ce35cfb1172279795be47a3c417a2419feeb5b317d642813643c8d73683139cdfeac99e8397632bbce0a14837449761078eaf7cf75054f7b92e6409df50693defbed677ce3341e30af809c7d84f5e368dd1998cea3e3db233f60f8525faaffaf5305b05852610642fa18d30627d30aa99eaec55e768f1da058eb03ce607b822c67b648424ff955154c8eb7e32bac2679006676c314e2c70f3e3f5dc6da04489a846d4356fec37adfcee8952ec11aa693ffcebfe188f9ccccb3e6e22d66cdfbb27d2c52bade118898b60c02be37458c25f86e373eef1e4edcaac500882184e615b1b0baf03d1e9f028126a5e71556b42b1a00ff063b013c8620fb627e00c38b08ef6f313e2bf6cbcd602321192ceb180bfb2e757ab790f59c24324c6651eaadcb74bc5a46f472e00ab1d50748b3a4bf329d66187d7aed89726f8b959098be9c7065a0502485982fffcf1970b2a89e82c0b17c48689c87107ee40cea2b5d9d5c4732596bbb8fa76a1b8f48eddc433ab37c2d18e46797db60639291f116f2bae5ed20ae57f62ac7e74d178c7156ee5ed0916eeb6f835342be8d1a235fa426b36b8a083d9608a2d0ec4255927fcbd16e58a551c52d7a5afd87f7d1a176b579ece9e531270955c99e9b430c1c972881538feb8a11c0570ec3c07a51d0a842c6f2f52e52e57bd1df00f942928c6fac3124e94d5037782dc9051a97e494079482f8f23fa1539c06d43ebdf138ff8b8587dadfe24047afebb0f3b8b66d6d6c86ff001ab2009ba5f1d0fb835b0e9a9a1df28d48166c7a17d1ff4093799ec81ec2ff3af4f22bba7942dc8d9be69a5d8ed25e9a712ce19697d1a52c8b966abeaa5d6a38397feafbd37520633fb210aa1ce5861e9b8dcc71e4780cbce778110d6b23958885f314bfe3703a2dbbbdb36fdfc35ee291f509cd2ddae";

    /// @notice Verifies an ECDSA P-384 signature over a 48-byte digest.
    /// @param v `[e_hi, e_lo, r_hi, r_lo, s_hi, s_lo, w_hi, w_lo, qx_hi, qx_lo, qy_hi, qy_lo, h0, h1, h2,
    /// h3]` where e is the digest as a big-endian integer, (r, s) the signature, w the hint s⁻¹ mod n and
    /// (qx, qy) the affine public key, every value split into its high 128 and low 256 bits; h0..h3 the
    /// half-size hint: h0 = high 128 bits of y(R), bit 255 set iff x(R) = r + n; h1 = low 256 bits of
    /// y(R); h2 = a; h3 = |b|, bit 255 set iff b < 0. All zero h0..h3 selects the textbook check.
    /// @return ok True iff the signature is valid; false for any malformed input (never reverts on it).
    function verify(uint256[16] memory v) internal view returns (bool ok) {
        return check(v) == VALID;
    }

    /// @notice Outcome of `check`: the signature is valid.
    uint256 internal constant VALID = 0;
    /// @notice Outcome of `check`: the signature (or key) is invalid whatever the hint.
    uint256 internal constant INVALID = 1;
    /// @notice Outcome of `check`: the hint w is not s⁻¹ mod n (the signature was not judged).
    uint256 internal constant BAD_HINT = 2;

    /// @notice Like `verify`, but tells a wrong inverse hint apart from an invalid signature (a wrong
    /// half-size hint is not reported: it only costs the textbook check).
    /// @return outcome VALID, INVALID or BAD_HINT.
    function check(uint256[16] memory v) internal view returns (uint256 outcome) {
        bytes memory tables = TABLES;
        assembly ("memory-safe") {
            // ---------------------------------------------------------------- field mod p
            // 768-bit product w2·2^512 + w1·2^256 + w0 of two values below 2^384 (for products mod n).
            function wide(a1, a0, b1, b0) -> w2, w1, w0 {
                let mm := mulmod(a0, b0, not(0))
                w0 := mul(a0, b0)
                w1 := sub(sub(mm, w0), lt(mm, w0))
                mm := mulmod(a1, b0, not(0))
                let q0 := mul(a1, b0)
                let q1 := sub(sub(mm, q0), lt(mm, q0))
                mm := mulmod(a0, b1, not(0))
                let t := mul(a0, b1)
                q1 := add(q1, sub(sub(mm, t), lt(mm, t)))
                q0 := add(q0, t)
                q1 := add(q1, lt(q0, t))
                w1 := add(w1, q0)
                w2 := add(add(mul(a1, b1), q1), lt(w1, q0))
            }
            function mulm(d, a, b) {
                // 768-bit product w2·2^512 + w1·2^256 + w0 of two values below 2^384, folded with the
                // Solinas identities, in one function (no intermediate returns: fewer stack moves).
                let a0 := mload(add(a, 32))
                let b0 := mload(add(b, 32))
                let w0 := mul(a0, b0)
                let w1 := mulmod(a0, b0, not(0))
                w1 := sub(sub(w1, w0), lt(w1, w0))
                let a1 := mload(a)
                let b1 := mload(b)
                // cross = a1·b0 + a0·b1 < 2^386: (c1, c0)
                let c0 := mul(a1, b0)
                let c1 := mulmod(a1, b0, not(0))
                c1 := sub(sub(c1, c0), lt(c1, c0))
                let t := mul(a0, b1)
                let mm := mulmod(a0, b1, not(0))
                c1 := add(c1, sub(sub(mm, t), lt(mm, t)))
                c0 := add(c0, t)
                c1 := add(c1, lt(c0, t))
                w1 := add(w1, c0)
                let w2 := add(add(mul(a1, b1), c1), lt(w1, c0))
                // f1 < 2^224 and w2 ends <= 2: no overflow below.
                // w2·2^512 ≡ w2·2^256 + w2·E (mod p), E = D·2^128.
                t := mul(w2, 0xffffffffffffffff0000000100000000000000000000000000000000)
                mm := mulmod(w2, 0xffffffffffffffff0000000100000000000000000000000000000000, not(0))
                w0 := add(w0, t)
                mm := add(sub(sub(mm, t), lt(mm, t)), lt(w0, t))
                t := add(w1, w2)
                w2 := lt(t, w1)
                w1 := add(t, mm)
                w2 := add(w2, lt(w1, t))
                // H = value >> 384 < 2^130; value ≡ L + H·2^128 + H·D (mod p).
                let h := or(shl(128, w2), shr(128, w1))
                t := shl(128, h)
                w0 := add(w0, t)
                w1 := add(and(w1, 0xffffffffffffffffffffffffffffffff), add(shr(128, h), lt(w0, t)))
                t := mul(h, 0xffffffffffffffff00000001)
                w0 := add(w0, t)
                w1 := add(w1, lt(w0, t))
                // The value is now < 2^384 + 2^260: fold once more if it reached 2^384.
                h := shr(128, w1)
                if h {
                    w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                    t := mul(h, 0x100000000ffffffffffffffff00000001)
                    w0 := add(w0, t)
                    w1 := add(w1, lt(w0, t))
                }
                // Now < 2p: one conditional subtraction (p_hi = 2^128 − 1 is the largest possible w1).
                if and(
                    eq(w1, 0xffffffffffffffffffffffffffffffff),
                    iszero(lt(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                ) {
                    w1 := 0
                    w0 := sub(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, w1)
                mstore(add(d, 32), w0)
            }
            // d = a² mod p: `mulm` with the cross product a1·a0 computed once and doubled. The fold below
            // repeats `mulm`'s on purpose: a shared function would cost a call per product (~40 gas, some
            // 0.1 M gas per signature).
            function sqrm(d, a) {
                let a0 := mload(add(a, 32))
                let w0 := mul(a0, a0)
                let w1 := mulmod(a0, a0, not(0))
                w1 := sub(sub(w1, w0), lt(w1, w0))
                let a1 := mload(a)
                // cross = 2·a1·a0 < 2^385: (c1, c0)
                let c0 := mul(a1, a0)
                let c1 := mulmod(a1, a0, not(0))
                c1 := add(shl(1, sub(sub(c1, c0), lt(c1, c0))), shr(255, c0))
                c0 := shl(1, c0)
                w1 := add(w1, c0)
                let w2 := add(add(mul(a1, a1), c1), lt(w1, c0))
                let t := 0
                let mm := 0
                // w2·2^512 ≡ w2·2^256 + w2·E (mod p), E = D·2^128.
                t := mul(w2, 0xffffffffffffffff0000000100000000000000000000000000000000)
                mm := mulmod(w2, 0xffffffffffffffff0000000100000000000000000000000000000000, not(0))
                w0 := add(w0, t)
                mm := add(sub(sub(mm, t), lt(mm, t)), lt(w0, t))
                t := add(w1, w2)
                w2 := lt(t, w1)
                w1 := add(t, mm)
                w2 := add(w2, lt(w1, t))
                // H = value >> 384 < 2^130; value ≡ L + H·2^128 + H·D (mod p).
                let h := or(shl(128, w2), shr(128, w1))
                t := shl(128, h)
                w0 := add(w0, t)
                w1 := add(and(w1, 0xffffffffffffffffffffffffffffffff), add(shr(128, h), lt(w0, t)))
                t := mul(h, 0xffffffffffffffff00000001)
                w0 := add(w0, t)
                w1 := add(w1, lt(w0, t))
                // The value is now < 2^384 + 2^260: fold once more if it reached 2^384.
                h := shr(128, w1)
                if h {
                    w1 := and(w1, 0xffffffffffffffffffffffffffffffff)
                    t := mul(h, 0x100000000ffffffffffffffff00000001)
                    w0 := add(w0, t)
                    w1 := add(w1, lt(w0, t))
                }
                // Now < 2p: one conditional subtraction (p_hi = 2^128 − 1 is the largest possible w1).
                if and(
                    eq(w1, 0xffffffffffffffffffffffffffffffff),
                    iszero(lt(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                ) {
                    w1 := 0
                    w0 := sub(w0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, w1)
                mstore(add(d, 32), w0)
            }
            function addm(d, a, b) {
                let a0 := mload(add(a, 32))
                let r0 := add(a0, mload(add(b, 32)))
                let r1 := add(add(mload(a), mload(b)), lt(r0, a0))
                // r < 2p < 2^385; subtract p once if r >= p.
                if or(
                    gt(r1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(r1, 0xffffffffffffffffffffffffffffffff),
                        iszero(lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                    )
                ) {
                    r1 := sub(
                        sub(r1, 0xffffffffffffffffffffffffffffffff),
                        lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    )
                    r0 := sub(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            function subm(d, a, b) {
                let a0 := mload(add(a, 32))
                let b0 := mload(add(b, 32))
                let r0 := sub(a0, b0)
                let r1 := sub(sub(mload(a), mload(b)), lt(a0, b0))
                // Inputs are < p < 2^384, so a negative difference has r1 > -2^129 (signed).
                if slt(r1, 0) {
                    let t := add(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    r1 := add(add(r1, 0xffffffffffffffffffffffffffffffff), lt(t, r0))
                    r0 := t
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            function isZero(a) -> z {
                z := iszero(or(mload(a), mload(add(a, 32))))
            }
            function copy2(d, a) {
                mstore(d, mload(a))
                mstore(add(d, 32), mload(add(a, 32)))
            }
            // d = k·a mod p for a small k (k ≤ 8): the product is below 2^387, one Solinas fold with
            // 2^384 ≡ 2^128 + 2^96 − 2^32 + 1, a second if it carried to 2^384, and one subtraction.
            function mulSmall(d, a, k) {
                let a0 := mload(add(a, 32))
                let r0 := mul(a0, k)
                let mm := mulmod(a0, k, not(0))
                let r1 := add(mul(mload(a), k), sub(sub(mm, r0), lt(mm, r0)))
                for {} shr(128, r1) {} {
                    let t := mul(shr(128, r1), 0x100000000ffffffffffffffff00000001)
                    r1 := and(r1, 0xffffffffffffffffffffffffffffffff)
                    r0 := add(r0, t)
                    r1 := add(r1, lt(r0, t))
                }
                if and(
                    eq(r1, 0xffffffffffffffffffffffffffffffff),
                    iszero(lt(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff))
                ) {
                    r1 := 0
                    r0 := sub(r0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                }
                mstore(d, r1)
                mstore(add(d, 32), r0)
            }
            // ---------------------------------------------------------------- curve
            // Point in memory: X at +0, Y at +64, Z at +128 (each 2 words); infinity iff Z = 0.
            // Temporaries t0..t6 live at fixed scratch slots (`tmp` + 64·i).
            function jdbl(pt, tmp) {
                // a = −3: 4M + 4S (Z3 = 2·Y·Z), small multiples by `mulSmall`.
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let y := add(pt, 64)
                let z := add(pt, 128)
                sqrm(t0, z) // delta
                sqrm(t1, y) // gamma
                mulm(t2, pt, t1) // beta
                subm(t3, pt, t0)
                addm(t4, pt, t0)
                mulm(t3, t3, t4)
                mulSmall(t4, t3, 3) // alpha = 3·(X − delta)·(X + delta)
                mulm(z, y, z)
                addm(z, z, z) // Z3 = 2·Y·Z
                sqrm(t3, t4)
                mulSmall(t2, t2, 4) // 4·beta
                subm(t3, t3, t2)
                subm(pt, t3, t2) // X3 = alpha² − 8·beta
                subm(t2, t2, pt)
                mulm(t2, t4, t2)
                sqrm(t1, t1)
                mulSmall(t1, t1, 8)
                subm(y, t2, t1) // Y3 = alpha·(4·beta − X3) − 8·gamma²
            }
            function jmadd(pt, a, tmp) {
                // P (Jacobian) += A (affine): 8M + 3S.
                let z := add(pt, 128)
                if isZero(z) {
                    copy2(pt, a)
                    copy2(add(pt, 64), add(a, 64))
                    mstore(z, 0)
                    mstore(add(z, 32), 1)
                    leave
                }
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let y := add(pt, 64)
                sqrm(t0, z)
                mulm(t1, t0, z)
                mulm(t0, t0, a)
                mulm(t1, t1, add(a, 64))
                subm(t0, t0, pt) // H
                subm(t1, t1, y) // R
                if isZero(t0) {
                    switch isZero(t1)
                    case 1 { jdbl(pt, tmp) }
                    default {
                        mstore(z, 0)
                        mstore(add(z, 32), 0)
                    }
                    leave
                }
                mulm(z, z, t0)
                sqrm(t2, t0)
                mulm(t3, t2, t0) // H³
                mulm(t2, t2, pt) // V = X·H²
                sqrm(t4, t1)
                subm(t4, t4, t2)
                subm(t4, t4, t2)
                subm(t4, t4, t3) // X3 = R² − 2V − H³
                subm(t2, t2, t4)
                mulm(t2, t1, t2)
                mulm(t3, y, t3)
                subm(y, t2, t3) // Y3 = R·(V − X3) − Y·H³
                copy2(pt, t4)
            }
            function jadd(pt, q, tmp) {
                // P += Q, both Jacobian: 12M + 4S.
                let z := add(pt, 128)
                let qz := add(q, 128)
                if isZero(qz) { leave }
                if isZero(z) {
                    copy2(pt, q)
                    copy2(add(pt, 64), add(q, 64))
                    copy2(z, qz)
                    leave
                }
                let t0 := tmp
                let t1 := add(tmp, 64)
                let t2 := add(tmp, 128)
                let t3 := add(tmp, 192)
                let t4 := add(tmp, 256)
                let t5 := add(tmp, 320)
                let t6 := add(tmp, 384)
                let y := add(pt, 64)
                sqrm(t0, z)
                sqrm(t1, qz)
                mulm(t2, pt, t1) // U1
                mulm(t3, q, t0) // U2
                mulm(t1, t1, qz)
                mulm(t1, y, t1) // S1
                mulm(t0, t0, z)
                mulm(t0, add(q, 64), t0) // S2
                subm(t3, t3, t2) // H
                subm(t0, t0, t1) // R
                if isZero(t3) {
                    switch isZero(t0)
                    case 1 { jdbl(pt, tmp) }
                    default {
                        mstore(z, 0)
                        mstore(add(z, 32), 0)
                    }
                    leave
                }
                mulm(t4, z, qz)
                mulm(z, t4, t3)
                sqrm(t4, t3)
                mulm(t5, t4, t3) // H³
                mulm(t4, t2, t4) // V = U1·H²
                sqrm(t6, t0)
                subm(t6, t6, t5)
                subm(t6, t6, t4)
                subm(t6, t6, t4) // X3
                subm(t4, t4, t6)
                mulm(t4, t0, t4)
                mulm(t5, t1, t5)
                subm(y, t4, t5)
                copy2(pt, t6)
            }
            // ---------------------------------------------------------------- scalars mod n
            // a·b mod n through MODEXP(base = a·b as 96 bytes, exponent 1, modulus n).
            function mulModN(a1, a0, b1, b0, buf) -> r1, r0 {
                let w2, w1, w0 := wide(a1, a0, b1, b0)
                mstore(buf, 96)
                mstore(add(buf, 32), 1)
                mstore(add(buf, 64), 48)
                mstore(add(buf, 96), w2)
                mstore(add(buf, 128), w1)
                mstore(add(buf, 160), w0)
                mstore8(add(buf, 192), 1)
                mstore(add(buf, 193), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 209), 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                if iszero(staticcall(gas(), 0x05, buf, 241, buf, 48)) { revert(0, 0) }
                r1 := shr(128, mload(buf))
                r0 := mload(add(buf, 16))
            }
            function ltN(a1, a0) -> l {
                l := or(
                    lt(a1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(a1, 0xffffffffffffffffffffffffffffffff),
                        lt(a0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    )
                )
            }
            function ltP(a1, a0) -> l {
                l := or(
                    lt(a1, 0xffffffffffffffffffffffffffffffff),
                    and(
                        eq(a1, 0xffffffffffffffffffffffffffffffff),
                        lt(a0, 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                    )
                )
            }
            // Memory (scratch above the free pointer, never allocated), offsets from `m`:
            //   0x0000 unused,
            //   0x0f00 Jacobian tables of P3 and P4 (8 points each, 192 bytes a point),
            //   0x2580 the same 16 points affine, 0x3480 prefix products (16 × 64 bytes),
            //   0x3c00 accumulator, 0x3cc0 seven temporaries, 0x3e80 MODEXP buffer, 0x3f80 u1 and u2,
            //   0x4000 the four 192-bit scalars, 0x4080 their NAF digits, 0x4480 a negated table point,
            //   0x4580 table of G, 0x5580 table of 2^192·G (32 affine odd multiples each, 128 bytes a point).
            // 1 = inputs valid, 0 = invalid signature or key, 2 = bad hint.
            function inputsValid(vp, tmp, buf) -> good {
                let r1 := mload(add(vp, 64))
                let r0 := mload(add(vp, 96))
                let s1 := mload(add(vp, 128))
                let s0 := mload(add(vp, 160))
                // 0 < r, s < n; w < n and s·w ≡ 1 (mod n).
                if iszero(and(ltN(r1, r0), ltN(s1, s0))) { leave }
                if or(iszero(or(r1, r0)), iszero(or(s1, s0))) { leave }
                let w1 := mload(add(vp, 192))
                let w0 := mload(add(vp, 224))
                {
                    if iszero(ltN(w1, w0)) {
                        good := 2
                        leave
                    }
                    let c1, c0 := mulModN(s1, s0, w1, w0, buf)
                    if iszero(and(iszero(c1), eq(c0, 1))) {
                        good := 2
                        leave
                    }
                }
                // The key is a curve point: coordinates < p and y² = x³ − 3x + b.
                good := onCurve(add(vp, 256), add(vp, 320), tmp)
            }
            // 1 iff the affine point (x, y) has reduced coordinates and y² = x³ − 3x + b (mod p).
            function onCurve(x, y, tmp) -> good {
                if iszero(and(ltP(mload(x), mload(add(x, 32))), ltP(mload(y), mload(add(y, 32))))) {
                    leave
                }
                sqrm(tmp, x)
                mulm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                subm(tmp, tmp, x)
                mstore(add(tmp, 64), 0xb3312fa7e23ee7e4988e056be3f82d19)
                mstore(add(tmp, 96), 0x181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef)
                addm(tmp, tmp, add(tmp, 64))
                sqrm(add(tmp, 64), y)
                good := and(eq(mload(tmp), mload(add(tmp, 64))), eq(mload(add(tmp, 32)), mload(add(tmp, 96))))
            }
            // acc = k0·G + k1·2^192·G + k2·P3 + k3·P4 for the 192-bit scalars k0..k3 at m + 0x4000, with
            // the Jacobian P3 and P4 at m + 0x0f00 and m + 0x1500 (Strauss–Shamir: ~193 doublings for all
            // four scalars; width-7 NAF digits for the constant G tables, ~24 additions per scalar, and
            // width-5 for P3 and P4, ~32 additions per scalar).
            function msm4(m) {
                let jt := add(m, 0x0f00)
                let tmp := add(m, 0x3cc0)
                let acc := add(m, 0x3c00)
                // Odd multiples 1, 3, …, 15 of P3 and of P4: repeated additions of 2·P (in `acc`).
                for { let b := jt } 1 { b := add(b, 0x600) } {
                    mcopy(acc, b, 192)
                    jdbl(acc, tmp)
                    for { let i := 1 } lt(i, 8) { i := add(i, 1) } {
                        let d := add(b, mul(i, 192))
                        mcopy(d, sub(d, 192), 192)
                        jadd(d, acc, tmp)
                    }
                    if gt(b, jt) { break }
                }
                toAffine(jt, add(m, 0x2580), add(m, 0x3480), tmp, add(m, 0x3e80))
                // Width-w NAF of each scalar (w = 7 for k0 and k1, 5 for k2 and k3: digits 0 or odd in
                // [−2^(w−1) + 1, 2^(w−1) − 1], at most 193), one byte a bit position (magnitude, bit 7 =
                // negative), least significant first, at m + 0x4080 + 256·j.
                let digits := add(m, 0x4080)
                for { let i := 0 } lt(i, 0x400) { i := add(i, 32) } { mstore(add(digits, i), 0) }
                let top := 0
                for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                    let s := mload(add(add(m, 0x4000), shl(5, j)))
                    let dig := add(digits, shl(8, j))
                    // 2^w: 128 for the G scalars, 32 for the others.
                    let full := 32
                    if lt(j, 2) { full := 128 }
                    let i := 0
                    for {} s {} {
                        if and(s, 1) {
                            let d := and(s, sub(full, 1))
                            switch lt(d, shr(1, full))
                            case 1 {
                                s := sub(s, d)
                                mstore8(add(dig, i), d)
                            }
                            default {
                                s := add(s, sub(full, d))
                                mstore8(add(dig, i), or(sub(full, d), 0x80))
                            }
                        }
                        s := shr(1, s)
                        i := add(i, 1)
                    }
                    if gt(i, top) { top := i }
                }
                let neg := add(m, 0x4480)
                // The point at infinity with reduced coordinates (scratch memory may hold anything).
                for { let i := 0 } lt(i, 192) { i := add(i, 32) } { mstore(add(acc, i), 0) }
                mstore(add(neg, 128), 0)
                mstore(add(neg, 160), 0)
                for { let i := top } i {} {
                    i := sub(i, 1)
                    jdbl(acc, tmp)
                    // Scalar j's digit selects from its table: G, 2^192·G (affine odd multiples 1·, …, 63·),
                    // P3, P4 (1·, …, 15·); a negative digit adds the negated point.
                    for { let j := 0 } lt(j, 4) { j := add(j, 1) } {
                        let d := shr(248, mload(add(add(digits, shl(8, j)), i)))
                        if d {
                            let t := add(0x4580, shl(12, j))
                            if gt(j, 1) { t := add(0x1d80, shl(10, j)) }
                            let pt := add(add(m, t), shl(6, sub(and(d, 0x7f), 1)))
                            if shr(7, d) {
                                copy2(neg, pt)
                                subm(add(neg, 64), add(neg, 128), add(pt, 64))
                                pt := neg
                            }
                            jmadd(acc, pt, tmp)
                        }
                    }
                }
            }
            // Writes the affine (x, y) at `a` as the Jacobian point (x, y, 1) at `d`.
            function jacobian(d, a) {
                mcopy(d, a, 128)
                mstore(add(d, 128), 0)
                mstore(add(d, 160), 1)
            }
            // Stores (hi, lo) = v (< 2^384) as the two 192-bit halves (v >> 192, v mod 2^192) at k.
            function halves(k, hi, lo) {
                mstore(k, and(lo, 0xffffffffffffffffffffffffffffffffffffffffffffffff))
                mstore(add(k, 32), or(shl(64, hi), shr(192, lo)))
            }
            // The 16 Jacobian points at `qj` (192 bytes each, none at infinity: every point has prime
            // order n) to affine at `qa` (128 bytes each) with one inversion (Montgomery's trick: prefix
            // products at `pre`, one MODEXP Fermat inversion of their product, then 3 multiplications per
            // point back).
            function toAffine(qj, qa, pre, tmp, buf) {
                copy2(pre, add(qj, 128))
                for { let i := 1 } lt(i, 16) { i := add(i, 1) } {
                    mulm(add(pre, shl(6, i)), add(pre, shl(6, sub(i, 1))), add(add(qj, mul(i, 192)), 128))
                }
                // iv = (Z_0·…·Z_15)^(p−2) mod p
                mstore(buf, 48)
                mstore(add(buf, 32), 48)
                mstore(add(buf, 64), 48)
                mstore(add(buf, 96), shl(128, mload(add(pre, 960))))
                mstore(add(buf, 112), mload(add(pre, 992)))
                mstore(add(buf, 144), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 160), 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffd)
                mstore(add(buf, 192), shl(128, 0xffffffffffffffffffffffffffffffff))
                mstore(add(buf, 208), 0xfffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff)
                if iszero(staticcall(gas(), 0x05, buf, 240, buf, 48)) { revert(0, 0) }
                let iv := tmp
                let zi := add(tmp, 64)
                let zz := add(tmp, 128)
                let zzz := add(tmp, 192)
                mstore(iv, shr(128, mload(buf)))
                mstore(add(iv, 32), mload(add(buf, 16)))
                for { let i := 15 } 1 { i := sub(i, 1) } {
                    let pt := add(qj, mul(i, 192))
                    switch i
                    case 0 { copy2(zi, iv) }
                    default {
                        mulm(zi, iv, add(pre, shl(6, sub(i, 1)))) // 1/Z_i
                        mulm(iv, iv, add(pt, 128)) // 1/(Z_0·…·Z_{i−1})
                    }
                    sqrm(zz, zi)
                    mulm(zzz, zz, zi)
                    let a := add(qa, shl(7, i))
                    mulm(a, pt, zz)
                    mulm(add(a, 64), add(pt, 64), zzz)
                    if iszero(i) { break }
                }
            }
            // x(R) mod n == r  ⇔  Z ≠ 0 and X ≡ r·Z², or (when r + n < p) X ≡ (r + n)·Z² (mod p).
            function xMatches(acc, r1, r0, tmp) -> good {
                let z := add(acc, 128)
                if isZero(z) { leave }
                let zz := add(tmp, 64)
                let t := add(tmp, 128)
                sqrm(zz, z)
                mstore(tmp, r1)
                mstore(add(tmp, 32), r0)
                mulm(t, tmp, zz)
                if and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32)))) {
                    good := 1
                    leave
                }
                if rPlusNBelowP(r1, r0) {
                    let rn0 := add(r0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    mstore(tmp, add(0xffffffffffffffffffffffffffffffff, lt(rn0, r0)))
                    mstore(add(tmp, 32), rn0)
                    mulm(t, tmp, zz)
                    good := and(eq(mload(t), mload(acc)), eq(mload(add(t, 32)), mload(add(acc, 32))))
                }
            }
            // r + n < p ⇔ r < p − n (p − n < 2^190, so r_hi must be 0).
            function rPlusNBelowP(r1, r0) -> l {
                l := and(iszero(r1), lt(r0, 0x389cb27e0bc8d21fa7e5f24cb74f58851313e696333ad68c))
            }
            // The half-size check (Antipa et al.): with the hint R = (x, y), x ∈ {r, r + n}, and
            // 0 < a < 2^192, |b| < 2^192, a·u2 ≡ b (mod n): (a·u1 mod n)·G + b·Q − a·R = O. Since a ≢ 0
            // (mod n) and the group has prime order n, that holds iff u1·G + u2·Q = R, i.e. iff the
            // signature is valid. 1 = holds; 0 = does not hold or the hint is unusable (the caller
            // then decides without it).
            function halfSize(vp, m) -> good {
                let ry1 := mload(add(vp, 384))
                let a := mload(add(vp, 448))
                let bw := mload(add(vp, 480))
                let b := and(bw, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                if or(iszero(a), or(shr(192, a), shr(192, b))) { leave }
                let buf := add(m, 0x3e80)
                let u := add(m, 0x3f80)
                let tmp := add(m, 0x3cc0)
                // a·u2 ≡ ±b (mod n)
                {
                    let c1, c0 := mulModN(0, a, mload(add(u, 64)), mload(add(u, 96)), buf)
                    if shr(255, bw) {
                        if iszero(b) { leave }
                        let nb0 := sub(0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973, b)
                        // n − b with b < 2^192: the high word of n is unchanged.
                        if iszero(and(eq(c1, 0xffffffffffffffffffffffffffffffff), eq(c0, nb0))) {
                            leave
                        }
                    }
                    if iszero(shr(255, bw)) { if iszero(and(iszero(c1), eq(c0, b))) { leave } }
                }
                // R: x = r (or r + n when the flag is set and r + n < p), y from the hint, on the curve.
                let pt := add(m, 0x1500)
                let r1 := mload(add(vp, 64))
                let r0 := mload(add(vp, 96))
                if shr(255, ry1) {
                    if iszero(rPlusNBelowP(r1, r0)) { leave }
                    let rn0 := add(r0, 0xffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973)
                    r1 := add(0xffffffffffffffffffffffffffffffff, lt(rn0, r0))
                    r0 := rn0
                }
                mstore(pt, r1)
                mstore(add(pt, 32), r0)
                mstore(
                    add(pt, 64),
                    and(ry1, 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff)
                )
                mstore(add(pt, 96), mload(add(vp, 416)))
                if iszero(onCurve(pt, add(pt, 64), tmp)) { leave }
                // P4 = −R, P3 = ±Q (the sign of b).
                mstore(tmp, 0)
                mstore(add(tmp, 32), 0)
                subm(add(pt, 64), tmp, add(pt, 64))
                mstore(add(pt, 128), 0)
                mstore(add(pt, 160), 1)
                let q := add(m, 0x0f00)
                jacobian(q, add(vp, 256))
                if shr(255, bw) { subm(add(q, 64), tmp, add(q, 64)) }
                // Scalars: a·u1 mod n in 192-bit halves, |b|, a.
                let k := add(m, 0x4000)
                {
                    let c1, c0 := mulModN(0, a, mload(u), mload(add(u, 32)), buf)
                    halves(k, c1, c0)
                }
                mstore(add(k, 64), b)
                mstore(add(k, 96), a)
                msm4(m)
                good := isZero(add(m, 0x3c80))
            }
            // The textbook check: x(u1·G + u2·Q) ≡ r (mod n), as u1·G + u2·Q = u1_lo·G + u1_hi·2^192·G +
            // u2_lo·Q + u2_hi·(2^192·Q), with 2^192·Q from 192 doublings.
            function textbook(vp, m) -> good {
                let q := add(m, 0x0f00)
                let q2 := add(m, 0x1500)
                let tmp := add(m, 0x3cc0)
                jacobian(q, add(vp, 256))
                mcopy(q2, q, 192)
                for { let i := 0 } lt(i, 192) { i := add(i, 1) } { jdbl(q2, tmp) }
                let u := add(m, 0x3f80)
                let k := add(m, 0x4000)
                // k = [u1_lo, u1_hi, u2_lo, u2_hi]
                halves(k, mload(u), mload(add(u, 32)))
                halves(add(k, 64), mload(add(u, 64)), mload(add(u, 96)))
                msm4(m)
                good := xMatches(add(m, 0x3c00), mload(add(vp, 64)), mload(add(vp, 96)), tmp)
            }

            function run(vp, tab, m) -> res {
                // Unpack the constant tables (48-byte big-endian coordinates) to (hi, lo) word pairs.
                for { let i := 0 } lt(i, 128) { i := add(i, 1) } {
                    let s := add(add(tab, 32), mul(i, 48))
                    let d := add(add(m, 0x4580), shl(6, i))
                    mstore(d, shr(128, mload(s)))
                    mstore(add(d, 32), mload(add(s, 16)))
                }
                let buf := add(m, 0x3e80)
                let u := add(m, 0x3f80)
                res := 1
                let valid := inputsValid(vp, add(m, 0x3cc0), buf)
                if eq(valid, 2) { res := 2 }
                if eq(valid, 1) {
                    let w1 := mload(add(vp, 192))
                    let w0 := mload(add(vp, 224))
                    let a1, a0 := mulModN(mload(vp), mload(add(vp, 32)), w1, w0, buf)
                    mstore(u, a1)
                    mstore(add(u, 32), a0)
                    a1, a0 := mulModN(mload(add(vp, 64)), mload(add(vp, 96)), w1, w0, buf)
                    mstore(add(u, 64), a1)
                    mstore(add(u, 96), a0)
                    switch halfSize(vp, m)
                    case 1 { res := 0 }
                    default { if textbook(vp, m) { res := 0 } }
                }
            }
            outcome := run(v, tables, mload(0x40))
        }
    }
}

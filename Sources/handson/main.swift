import Foundation
import HandsOnKit

exit(HandsOnCLI.main())
